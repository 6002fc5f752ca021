#include "common/frame.h"

#include "absl/strings/str_cat.h"

namespace fdattest {

absl::StatusOr<std::string> EncodeFrame(absl::string_view payload) {
  if (payload.empty() || payload.size() > kMaxFrameBytes) {
    return absl::InvalidArgumentError(absl::StrCat("a frame holds 1 to ", kMaxFrameBytes,
                                                   " bytes; got ", payload.size()));
  }
  std::string out;
  out.reserve(kFrameHeaderBytes + payload.size());
  const uint32_t n = static_cast<uint32_t>(payload.size());
  out.push_back(static_cast<char>(n >> 24));
  out.push_back(static_cast<char>(n >> 16));
  out.push_back(static_cast<char>(n >> 8));
  out.push_back(static_cast<char>(n));
  out.append(payload.data(), payload.size());
  return out;
}

uint32_t DeclaredFrameLength(absl::string_view header) {
  const auto* p = reinterpret_cast<const unsigned char*>(header.data());
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | uint32_t{p[3]};
}

absl::Status CheckFrameLength(uint32_t n) {
  if (n == 0 || n > kMaxFrameBytes) {
    return absl::InvalidArgumentError(absl::StrCat("frame declares ", n,
                                                   " bytes; a frame holds 1 to ", kMaxFrameBytes,
                                                   " bytes of JSON"));
  }
  return absl::OkStatus();
}

absl::Status FrameReader::CheckHeader() const {
  if (buffer_.size() < kFrameHeaderBytes) return absl::OkStatus();
  return CheckFrameLength(DeclaredFrameLength(buffer_));
}

absl::Status FrameReader::Feed(absl::string_view bytes) {
  buffer_.append(bytes.data(), bytes.size());
  // Only the first header needs checking here; Next() checks each following
  // one as it becomes the first.
  return CheckHeader();
}

std::optional<std::string> FrameReader::Next() {
  if (buffer_.size() < kFrameHeaderBytes || !CheckHeader().ok()) return std::nullopt;
  const size_t n = DeclaredFrameLength(buffer_);
  if (buffer_.size() < kFrameHeaderBytes + n) return std::nullopt;
  std::string payload = buffer_.substr(kFrameHeaderBytes, n);
  buffer_.erase(0, kFrameHeaderBytes + n);
  return payload;
}

}  // namespace fdattest
