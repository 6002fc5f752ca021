// SecretBox: encryption of the service's secrets at rest (the values an
// administrator stores for release), AES-256-GCM under a 32-byte key kept in
// its own file beside, not inside, the database. The secret's name is bound
// in as associated data, so a ciphertext copied to another name does not
// open. Format: docs/formats/secret-box.md. Immutable after Open; thread-safe.
#ifndef FDATTEST_VERIFIER_SECRET_BOX_H_
#define FDATTEST_VERIFIER_SECRET_BOX_H_

#include <array>
#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"
#include "common/status.h"

namespace fdattest {

class SecretBox {
 public:
  static constexpr size_t kKeyBytes = 32;
  static constexpr uint8_t kVersion = 1;
  static constexpr size_t kIvBytes = 12;
  static constexpr size_t kTagBytes = 16;
  static constexpr size_t kMaxPlaintextBytes = size_t{1} << 20;

  // Writes a new random key to `path` (mode 0600; fails if the file exists).
  static absl::Status CreateKeyFile(const std::string& path);
  // Reads the key. FailedPrecondition unless `path` is a regular file (not a
  // symlink) owned by this user with mode 0600 or 0400; InvalidArgument unless
  // it holds exactly 32 bytes.
  static absl::StatusOr<SecretBox> Open(const std::string& path);
  // A box over `key`'s 32 raw bytes (InvalidArgument for another length):
  // for keys that are themselves stored sealed (verifier/audit/tenant_keys.h).
  static absl::StatusOr<SecretBox> FromKeyBytes(absl::string_view key);

  SecretBox(const SecretBox& other) = default;
  SecretBox& operator=(const SecretBox& other) = default;
  ~SecretBox();  // wipes the key

  // version byte || random IV || ciphertext || tag. InvalidArgument for an
  // empty name or a plaintext over kMaxPlaintextBytes.
  absl::StatusOr<std::string> Seal(absl::string_view name, absl::string_view plaintext) const;
  // The plaintext, or DataLoss when `sealed` was not made by Seal under this
  // key and `name` (any byte changed, truncated, another name or key). The
  // caller owns the result and should OPENSSL_cleanse it when done.
  absl::StatusOr<std::string> Open(absl::string_view name, absl::string_view sealed) const;

 private:
  explicit SecretBox(const std::array<uint8_t, kKeyBytes>& key) : key_(key) {}

  std::array<uint8_t, kKeyBytes> key_;
};

}  // namespace fdattest

#endif  // FDATTEST_VERIFIER_SECRET_BOX_H_
