// Standard base64 (RFC 4648 section 4, with padding). Encoding through
// OpenSSL's EVP block codec; decoding is strict and accepts exactly what the
// encoder writes: no whitespace, no missing padding, no trailing garbage, no
// non-zero bits after the last byte. Stateless; thread-safe.
#ifndef FDATTEST_COMMON_BASE64_H_
#define FDATTEST_COMMON_BASE64_H_

#include <string>
#include "absl/strings/string_view.h"

#include "common/status.h"

namespace fdattest {

std::string Base64Encode(absl::string_view data);
absl::StatusOr<std::string> Base64Decode(absl::string_view text);

}  // namespace fdattest

#endif  // FDATTEST_COMMON_BASE64_H_
