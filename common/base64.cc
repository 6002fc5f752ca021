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

// For each position in a quad, each character's 6 bits already shifted into
// place in a 24-bit group; kNotBase64 (bit 31) for everything outside the
// alphabet ('=' included), so one OR of four lookups both decodes and checks.
constexpr uint32_t kNotBase64 = 0x80000000u;
struct DecodeTables {
  uint32_t at[4][256];
  constexpr DecodeTables() : at() {
    const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for (int pos = 0; pos < 4; ++pos) {
      for (int c = 0; c < 256; ++c) at[pos][c] = kNotBase64;
      for (uint32_t v = 0; v < 64; ++v) {
        at[pos][static_cast<uint8_t>(alphabet[v])] = v << (18 - 6 * pos);
      }
    }
  }
};
constexpr DecodeTables kDecode;

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
    const uint32_t v = kDecode.at[0][in[i]] | kDecode.at[1][in[i + 1]] |
                       kDecode.at[2][in[i + 2]] | kDecode.at[3][in[i + 3]];
    if ((v & kNotBase64) != 0) return absl::InvalidArgumentError("invalid base64 character");
    *o++ = static_cast<char>(v >> 16);
    *o++ = static_cast<char>(v >> 8);
    *o++ = static_cast<char>(v);
  }
  if (pad != 0) {
    const unsigned char* q = in + full;
    const uint32_t v = kDecode.at[0][q[0]] | kDecode.at[1][q[1]] |
                       (pad == 1 ? kDecode.at[2][q[2]] : 0);
    if ((v & kNotBase64) != 0) return absl::InvalidArgumentError("invalid base64 character");
    *o++ = static_cast<char>(v >> 16);
    if (pad == 1) *o++ = static_cast<char>(v >> 8);
    // Bits that no output byte holds must be zero: one spelling per value.
    if ((pad == 2 ? (v & 0xffff) : (v & 0xff)) != 0) {
      return absl::InvalidArgumentError("non-canonical base64");
    }
  }
  return out;
}

std::string Base64UrlEncode(absl::string_view data) {
  std::string out = Base64Encode(data);
  while (!out.empty() && out.back() == '=') out.pop_back();
  for (char& c : out) {
    if (c == '+') c = '-';
    if (c == '/') c = '_';
  }
  return out;
}

absl::StatusOr<std::string> Base64UrlDecode(absl::string_view text) {
  if (text.size() % 4 == 1) return absl::InvalidArgumentError("impossible base64url length");
  std::string std_text(text);
  for (char& c : std_text) {
    const bool alnum = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    if (c == '-') {
      c = '+';
    } else if (c == '_') {
      c = '/';
    } else if (!alnum) {
      return absl::InvalidArgumentError("invalid base64url character");
    }
  }
  while (std_text.size() % 4 != 0) std_text.push_back('=');
  // Base64Decode refuses non-zero trailing bits: one spelling per value.
  return Base64Decode(std_text);
}

}  // namespace fdattest
