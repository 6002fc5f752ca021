// Standard base64 (RFC 4648 section 4, with padding) and unpadded base64url
// (RFC 7515 section 2, for JOSE). Encoding through OpenSSL's EVP block codec;
// decoding is strict and accepts exactly what the encoder writes: no
// whitespace, no missing (base64) or present (base64url) padding, no trailing
// garbage, no non-zero bits after the last byte. Stateless; thread-safe.
#ifndef FDATTEST_COMMON_BASE64_H_
#define FDATTEST_COMMON_BASE64_H_

#include <string>
#include "absl/strings/string_view.h"

#include "common/status.h"

namespace fdattest {

std::string Base64Encode(absl::string_view data);
absl::StatusOr<std::string> Base64Decode(absl::string_view text);

// Unpadded base64url: only the URL-safe alphabet, no padding.
std::string Base64UrlEncode(absl::string_view data);
absl::StatusOr<std::string> Base64UrlDecode(absl::string_view text);

}  // namespace fdattest

#endif  // FDATTEST_COMMON_BASE64_H_
