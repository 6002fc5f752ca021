// fdverifierd's structured log: one JSON object per line on a descriptor
// (stderr), {"time": RFC 3339 UTC with milliseconds, "event": ..., fields}.
// Callers pass only what is safe to keep: routes, statuses, durations,
// verdicts, ids and client certificate subjects; never request or response
// bodies, evidence, secrets or anything that could carry PHI. A line is
// written with one write(2) under a mutex, so lines never interleave.
// Thread-safe.
#ifndef FDATTEST_VERIFIER_SERVICE_ACCESS_LOG_H_
#define FDATTEST_VERIFIER_SERVICE_ACCESS_LOG_H_

#include <mutex>
#include <string>

#include "absl/strings/string_view.h"
#include "common/json.h"

namespace fdattest {

class AccessLog {
 public:
  explicit AccessLog(int fd = 2) : fd_(fd) {}
  AccessLog(const AccessLog&) = delete;
  AccessLog& operator=(const AccessLog&) = delete;

  // `fields` is an object (or null); "event" and "time" come first.
  void Write(absl::string_view event, const Json& fields = Json());

 private:
  int fd_;
  std::mutex mu_;
};

}  // namespace fdattest

#endif  // FDATTEST_VERIFIER_SERVICE_ACCESS_LOG_H_
