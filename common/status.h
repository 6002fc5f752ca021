// Error values for all of fdattest: absl::Status / absl::StatusOr plus the two
// propagation macros and converters for C error codes (errno, OpenSSL).
// Codes, one meaning each: InvalidArgument (malformed input), FailedPrecondition
// (wrong order/state), PermissionDenied (policy says no), Unauthenticated
// (signature/quote fails), DataLoss (archive inconsistency), Internal (bugs).
#ifndef FDATTEST_COMMON_STATUS_H_
#define FDATTEST_COMMON_STATUS_H_

#include "absl/strings/string_view.h"

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define FDATTEST_CONCAT_INNER_(a, b) a##b
#define FDATTEST_CONCAT_(a, b) FDATTEST_CONCAT_INNER_(a, b)

#define RETURN_IF_ERROR(expr)                      \
  do {                                             \
    ::absl::Status fdattest_status_ = (expr);      \
    if (!fdattest_status_.ok()) return fdattest_status_; \
  } while (0)

#define ASSIGN_OR_RETURN(lhs, expr) \
  ASSIGN_OR_RETURN_IMPL_(FDATTEST_CONCAT_(fdattest_statusor_, __LINE__), lhs, expr)
#define ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                           \
  if (!tmp.ok()) return std::move(tmp).status(); \
  lhs = std::move(tmp).value()

namespace fdattest {

// A status for a failed libc call: "<what>: <strerror(errno)>". The code is
// InvalidArgument for errors caused by the caller's input (ENOENT, EACCES, ...)
// and Internal otherwise.
absl::Status ErrnoStatus(absl::string_view what, int err);

// A status carrying OpenSSL's queued error text (and clearing the queue).
absl::Status OpenSslStatus(absl::string_view what);

}  // namespace fdattest

#endif  // FDATTEST_COMMON_STATUS_H_
