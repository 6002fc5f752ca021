#include "common/base64.h"

#include <openssl/evp.h>

namespace fdattest {

std::string Base64Encode(absl::string_view data) {
  std::string out(4 * ((data.size() + 2) / 3), '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(data.data()),
                          static_cast<int>(data.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

absl::StatusOr<std::string> Base64Decode(absl::string_view text) {
  if (text.size() % 4 != 0) return absl::InvalidArgumentError("base64 length is not a multiple of 4");
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    bool alnum = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    bool pad_ok = c == '=' && i + 2 >= text.size() &&
                  (i + 1 == text.size() || text[i + 1] == '=');
    if (!(alnum || c == '+' || c == '/' || pad_ok)) {
      return absl::InvalidArgumentError("invalid base64 character");
    }
  }
  std::string out(3 * (text.size() / 4), '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(text.data()),
                          static_cast<int>(text.size()));
  if (n < 0) return absl::InvalidArgumentError("invalid base64");
  // EVP_DecodeBlock counts padding bytes as output; drop them.
  size_t pad = 0;
  if (!text.empty() && text.back() == '=') ++pad;
  if (text.size() >= 2 && text[text.size() - 2] == '=') ++pad;
  out.resize(static_cast<size_t>(n) - pad);
  if (Base64Encode(out) != text) return absl::InvalidArgumentError("non-canonical base64");
  return out;
}

}  // namespace fdattest
