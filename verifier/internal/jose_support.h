// What the verifier's libjose files (jose_key.cc, jose_jwe.cc) share: the
// owner of jansson values and a libjose configuration whose error handler
// keeps libjose's first message for the Status instead of printing it.
// Internal to verifier/; include only from files that call libjose.
// Each JoseErrors belongs to one call on one thread.
#ifndef FDATTEST_VERIFIER_INTERNAL_JOSE_SUPPORT_H_
#define FDATTEST_VERIFIER_INTERNAL_JOSE_SUPPORT_H_

#include <jansson.h>
// libjose's headers have no extern "C" guards of their own.
extern "C" {
#include <jose/cfg.h>
}

#include <cstdarg>
#include <cstdio>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "common/status.h"

namespace fdattest::jose_internal {

// The owner of a jansson value: json_decref at end of scope.
struct JsonDecref {
  void operator()(json_t* value) const { json_decref(value); }
};
using JanssonPtr = std::unique_ptr<json_t, JsonDecref>;

struct JoseCfgDecref {
  void operator()(jose_cfg_t* cfg) const { jose_cfg_decref(cfg); }
};

// A libjose configuration for one call whose error handler keeps the first
// message: libjose's reasons end up in the Status instead of on stderr (its
// default handler prints there).
class JoseErrors {
 public:
  JoseErrors() : cfg_(jose_cfg()), message_(std::make_unique<std::string>()) {
    if (cfg_ != nullptr) jose_cfg_set_err_func(cfg_.get(), &JoseErrors::Record, message_.get());
  }
  // libjose accepts a NULL configuration (default handler) if allocation failed.
  jose_cfg_t* cfg() const { return cfg_.get(); }
  absl::Status Fail(absl::StatusCode code, absl::string_view what) const {
    if (message_->empty()) return absl::Status(code, what);
    return absl::Status(code, absl::StrCat(what, " (libjose: ", *message_, ")"));
  }

 private:
  __attribute__((format(printf, 5, 0))) static void Record(void* misc, const char*, int, uint64_t,
                                                           const char* fmt, va_list ap) {
    auto* message = static_cast<std::string*>(misc);
    if (!message->empty()) return;
    char buf[256];
    if (vsnprintf(buf, sizeof(buf), fmt, ap) > 0) *message = buf;
  }

  std::unique_ptr<jose_cfg_t, JoseCfgDecref> cfg_;
  std::unique_ptr<std::string> message_;  // stable address for the handler
};

}  // namespace fdattest::jose_internal

#endif  // FDATTEST_VERIFIER_INTERNAL_JOSE_SUPPORT_H_
