#include "common/base64.h"

#include <openssl/evp.h>

#include <cstdint>

namespace fdattest {

std::string Base64Encode(absl::string_view data) {
  std::string out(4 * ((data.size() + 2) / 3), '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(data.data()),
                          static_cast<int>(data.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

namespace {

// 0-63 for the alphabet, kNotBase64 for everything else ('=' included).
constexpr uint8_t kNotBase64 = 0xff;
struct DecodeTable {
  uint8_t value[256];
  constexpr DecodeTable() : value() {
    const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for (int i = 0; i < 256; ++i) value[i] = kNotBase64;
    for (int i = 0; i < 64; ++i) value[static_cast<uint8_t>(alphabet[i])] = static_cast<uint8_t>(i);
  }
};
constexpr DecodeTable kDecode;

}  // namespace

// The inverse of Base64Encode and nothing else: length a multiple of 4, only
// the alphabet, '=' only as one or two final padding characters, and the
// unused low bits before the padding zero (so each byte string has exactly
// one accepted text).
absl::StatusOr<std::string> Base64Decode(absl::string_view text) {
  if (text.size() % 4 != 0) return absl::InvalidArgumentError("base64 length is not a multiple of 4");
  size_t pad = 0;
  if (!text.empty() && text.back() == '=') ++pad;
  if (text.size() >= 2 && text[text.size() - 2] == '=') ++pad;
  std::string out(3 * (text.size() / 4) - pad, '\0');
  const auto* in = reinterpret_cast<const unsigned char*>(text.data());
  char* o = out.data();
  const size_t full = pad == 0 ? text.size() : text.size() - 4;  // quads without padding
  for (size_t i = 0; i < full; i += 4) {
    const uint32_t a = kDecode.value[in[i]], b = kDecode.value[in[i + 1]],
                   c = kDecode.value[in[i + 2]], d = kDecode.value[in[i + 3]];
    if (((a | b | c | d) & 0xc0) != 0) {  // kNotBase64 has the top bits
      return absl::InvalidArgumentError("invalid base64 character");
    }
    const uint32_t v = (a << 18) | (b << 12) | (c << 6) | d;
    *o++ = static_cast<char>(v >> 16);
    *o++ = static_cast<char>(v >> 8);
    *o++ = static_cast<char>(v);
  }
  if (pad != 0) {
    const unsigned char* q = in + full;
    const uint32_t a = kDecode.value[q[0]], b = kDecode.value[q[1]];
    const uint32_t c = pad == 1 ? kDecode.value[q[2]] : 0;
    if (((a | b | c) & 0xc0) != 0) return absl::InvalidArgumentError("invalid base64 character");
    const uint32_t v = (a << 18) | (b << 12) | (c << 6);
    *o++ = static_cast<char>(v >> 16);
    if (pad == 1) *o++ = static_cast<char>(v >> 8);
    // Bits that no output byte holds must be zero: one spelling per value.
    if ((pad == 2 ? (v & 0xffff) : (v & 0xff)) != 0) {
      return absl::InvalidArgumentError("non-canonical base64");
    }
  }
  return out;
}

}  // namespace fdattest
