// The wire format of fdattestd's local API (docs/attestor.md): length-prefixed
// JSON frames (common/frame.h) over a unix stream socket, strict request
// parsing (unknown ops, unknown keys and wrong types are errors) and the
// response shapes. Stateless functions; no TPM or file access.
#ifndef FDATTEST_COMMON_ATTESTOR_API_H_
#define FDATTEST_COMMON_ATTESTOR_API_H_

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "absl/strings/string_view.h"
#include "common/cel.h"
#include "common/frame.h"
#include "common/json.h"
#include "common/status.h"

namespace fdattest {

// TPMS_ATTEST.extraData holds at most 64 bytes (a TPMU_HA of the largest hash).
inline constexpr size_t kMaxQualifyingDataBytes = 64;

// Blocking frame I/O for clients, with an absolute deadline
// (DeadlineExceeded when it passes). ReadFrame returns FailedPrecondition
// "connection closed" when the peer closes between or inside frames.
using Deadline = std::chrono::steady_clock::time_point;
absl::Status WriteFrame(int fd, absl::string_view payload, Deadline deadline);
absl::StatusOr<std::string> ReadFrame(int fd, Deadline deadline);

// One parsed request.
struct Request {
  enum class Op { kInfo, kMeasure, kCertify, kLog };
  Op op = Op::kInfo;
  std::optional<CelContent> content;  // kMeasure: what to append and extend
  std::string qualifying_data;        // kCertify: raw bytes, 1..64
  std::string launch_id;              // kLog: 32 lowercase hex digits
};

// Parses one request payload strictly. Every failure is InvalidArgument with
// a message that names the offending key.
absl::StatusOr<Request> ParseRequest(absl::string_view payload);

absl::string_view OpName(Request::Op op);

// {"ok":false,"error":{"code":C,"message":M}}. C is one of InvalidArgument,
// PermissionDenied, FailedPrecondition, DataLoss, Internal: other status
// codes are folded into the nearest of these (NotFound, AlreadyExists and
// OutOfRange are FailedPrecondition; everything else Internal).
Json ErrorResponse(const absl::Status& status);
absl::string_view ErrorCodeName(absl::StatusCode code);

// The canonical JSON of a response. A response that cannot be encoded or
// does not fit in one frame becomes an Internal/FailedPrecondition error
// response, so a response is always sent.
std::string SerializeResponse(const Json& response);

}  // namespace fdattest

#endif  // FDATTEST_COMMON_ATTESTOR_API_H_
