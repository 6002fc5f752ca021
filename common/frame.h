// The frame of fdattestd's local API (docs/attestor.md), for both sides: a
// 4-byte big-endian length N, then N bytes of JSON, 1 <= N <= kMaxFrameBytes,
// in both directions. Encoding, header decoding and a stream splitter; no
// I/O. FrameReader is not thread-safe; the functions are stateless.
#ifndef FDATTEST_COMMON_FRAME_H_
#define FDATTEST_COMMON_FRAME_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "absl/strings/string_view.h"
#include "common/status.h"

namespace fdattest {

inline constexpr size_t kFrameHeaderBytes = 4;
inline constexpr size_t kMaxFrameBytes = size_t{1} << 20;

// The header and payload of one frame. InvalidArgument if `payload` is empty
// or longer than kMaxFrameBytes.
absl::StatusOr<std::string> EncodeFrame(absl::string_view payload);

// The length a header declares (the first kFrameHeaderBytes of `header`,
// which must hold that many), unchecked.
uint32_t DeclaredFrameLength(absl::string_view header);
// InvalidArgument unless 1 <= n <= kMaxFrameBytes.
absl::Status CheckFrameLength(uint32_t n);

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

}  // namespace fdattest

#endif  // FDATTEST_COMMON_FRAME_H_
