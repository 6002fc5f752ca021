// The JSON adapter: the only place fdattest parses JSON text. Parsing is strict
// (duplicate keys, excessive depth and oversized input are errors, never
// "last one wins"), and serialisation is canonical (see docs/formats/canonical-json.md):
// object keys sorted bytewise, no insignificant whitespace, integers only.
// JsonFields reads one object field by field, keeps the first error, and at
// Finish() rejects keys nobody asked for. Stateless functions; thread-safe.
#ifndef FDATTEST_COMMON_JSON_H_
#define FDATTEST_COMMON_JSON_H_

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include "absl/strings/string_view.h"

#include "common/status.h"
#include "nlohmann/json.hpp"

namespace fdattest {

using Json = nlohmann::json;

struct JsonLimits {
  size_t max_bytes = 1 << 20;
  int max_depth = 32;
};

absl::StatusOr<Json> ParseJsonStrict(absl::string_view text, JsonLimits limits = {});

// Canonical serialisation. Fails (InvalidArgument) for floating-point numbers,
// which have no canonical text form here.
absl::StatusOr<std::string> CanonicalJson(const Json& value);

// Reads the fields of one JSON object. Every accessor records the key as known;
// the first error (wrong type, out of range, missing) is kept and reported by
// Finish(), which also rejects keys that no accessor asked for. `where` names the
// object in messages, e.g. "profile.fds[2]".
class JsonFields {
 public:
  JsonFields(const Json& object, std::string where);

  std::optional<std::string> String(absl::string_view key, bool required);
  std::optional<int64_t> Int(absl::string_view key, bool required, int64_t min, int64_t max);
  // Unsigned 64-bit values (inode numbers, rlimits) that Int cannot hold.
  std::optional<uint64_t> Uint(absl::string_view key, bool required, uint64_t max);
  std::optional<bool> Bool(absl::string_view key, bool required);
  // The array or object value itself (type-checked), for nested readers.
  const Json* Array(absl::string_view key, bool required);
  const Json* Object(absl::string_view key, bool required);

  bool Has(absl::string_view key) const;
  const std::string& where() const { return where_; }
  absl::Status Finish();

 private:
  const Json* Find(absl::string_view key, bool required);
  void Fail(std::string message);

  const Json& object_;
  std::string where_;
  std::set<std::string, std::less<>> known_;
  absl::Status first_error_;
};

}  // namespace fdattest

#endif  // FDATTEST_COMMON_JSON_H_
