// SHA-256 digests (OpenSSL EVP) over memory and over a descriptor's content,
// plus lowercase hex encoding/decoding. Stateless; thread-safe.
#ifndef FDATTEST_COMMON_SHA256_H_
#define FDATTEST_COMMON_SHA256_H_

#include <openssl/types.h>

#include <array>
#include <cstdint>
#include <string>
#include "absl/strings/string_view.h"

#include "common/status.h"

namespace fdattest {

using Sha256Digest = std::array<uint8_t, 32>;

Sha256Digest Sha256(absl::string_view data);
// OpenSSL's SHA-256, fetched once for the process (EVP_sha256() would be
// looked up in the provider on every use). For EVP calls that take a digest.
const EVP_MD* Sha256Md();

// Hashes everything readable from `fd` from offset 0 (pread: the descriptor's
// file position is left untouched). Fails for descriptors that cannot pread
// (pipes, sockets) rather than consuming their data.
absl::StatusOr<Sha256Digest> Sha256OfFile(int fd);

std::string HexEncode(absl::string_view bytes);
std::string HexEncode(const Sha256Digest& digest);
absl::StatusOr<std::string> HexDecode(absl::string_view hex);
// Whether every character is 0-9 or a-f (the only spelling fdattest writes).
bool IsLowerHex(absl::string_view s);

// Constant-time equality for digests and other secrets-derived bytes.
bool DigestEqual(const Sha256Digest& a, const Sha256Digest& b);

}  // namespace fdattest

#endif  // FDATTEST_COMMON_SHA256_H_
