// The wire format of fdattestd's local API (docs/attestor.md): length-prefixed
// JSON frames over a unix stream socket, strict request parsing (unknown ops,
// unknown keys and wrong types are errors) and the response shapes.
// Pure functions and a per-connection FrameReader value; no TPM or file
// access. FrameReader is not thread-safe; everything else is stateless.
#ifndef FDATTEST_ATTESTOR_PROTOCOL_H_
#define FDATTEST_ATTESTOR_PROTOCOL_H_

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "absl/strings/string_view.h"
#include "attestor/event_log.h"
#include "common/json.h"
#include "common/status.h"

namespace fdattest {

// A frame is a 4-byte big-endian length N, then N bytes of JSON, with
// 1 <= N <= kMaxFrameBytes, in both directions.
inline constexpr size_t kFrameHeaderBytes = 4;
inline constexpr size_t kMaxFrameBytes = size_t{1} << 20;
// TPMS_ATTEST.extraData holds at most 64 bytes (a TPMU_HA of the largest hash).
inline constexpr size_t kMaxQualifyingDataBytes = 64;

// The header and payload of one frame. InvalidArgument if `payload` is empty
// or longer than kMaxFrameBytes.
absl::StatusOr<std::string> EncodeFrame(absl::string_view payload);

// Splits a byte stream into frame payloads. Feed() rejects a header that
// declares a length outside 1..kMaxFrameBytes (the stream cannot be resynced
// after that: close the connection).
class FrameReader {
 public:
  absl::Status Feed(absl::string_view bytes);
  // The next complete payload, if one has fully arrived.
  std::optional<std::string> Next();
  // Whether bytes of an incomplete frame are buffered (a peer that closes now
  // sent a truncated frame).
  bool mid_frame() const { return !buffer_.empty(); }

 private:
  absl::Status CheckHeader() const;
  std::string buffer_;
};

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

#endif  // FDATTEST_ATTESTOR_PROTOCOL_H_
