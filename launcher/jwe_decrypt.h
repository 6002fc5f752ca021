// The launch key: an ephemeral P-256 key fdlaunch makes for one attested
// launch. Its public half goes into the manifest (`release_key`), so the TPM
// measures it with everything else; a verifier encrypts the secrets it
// releases to it as compact JWE (RFC 7516) with alg ECDH-ES and enc A256GCM,
// and Decrypt opens them here with OpenSSL alone (fdlaunch is linked
// statically; Debian ships libjose as a shared library only).
// The private key lives only in this object, in the launcher's memory: the
// launch destroys it before the exec, and destruction frees it (OpenSSL
// clears the private scalar when the key is freed). Move-only; not
// thread-safe (one launch, one thread).
#ifndef FDATTEST_LAUNCHER_JWE_DECRYPT_H_
#define FDATTEST_LAUNCHER_JWE_DECRYPT_H_

#include <string>

#include "absl/strings/string_view.h"
#include "common/manifest.h"
#include "common/openssl_ptr.h"
#include "common/status.h"

namespace fdattest {

// Largest compact JWE Decrypt reads (a secret is a key or a password).
inline constexpr size_t kMaxJweBytes = 1 << 20;

class LaunchKey {
 public:
  // A fresh key from OpenSSL's generator.
  static absl::StatusOr<LaunchKey> Generate();

  LaunchKey(LaunchKey&&) = default;
  LaunchKey& operator=(LaunchKey&&) = default;

  // What the manifest records.
  const ReleaseKey& public_key() const { return public_; }

  // The plaintext of `compact_jwe`, a JWE addressed to this key for the
  // launch `launch_id`. Strict, and every refusal names what was wrong:
  //  - five base64url segments (unpadded, canonical), at most kMaxJweBytes;
  //  - a protected header of exactly "alg" "ECDH-ES", "enc" "A256GCM",
  //    "kid" equal to `launch_id` and "epk" {"kty":"EC","crv":"P-256",x,y}
  //    with a point on the curve; anything else ("apu", "apv", "zip",
  //    "crit", "jku", other algorithms, "none") is refused;
  //  - an empty encrypted key, a 12-byte IV and a 16-byte tag.
  // The content key is the Concat KDF of RFC 7518 section 4.6 (SHA-256,
  // AlgorithmID "A256GCM", empty PartyUInfo and PartyVInfo, SuppPubInfo 256)
  // over the ECDH secret; AES-256-GCM authenticates the protected header's
  // base64url text as additional data. InvalidArgument for malformed input,
  // Unauthenticated for a kid of another launch or a tag that does not
  // verify (a wrong key, any altered byte). The shared secret and the content
  // key are cleansed before return; the caller cleanses the plaintext.
  absl::StatusOr<std::string> Decrypt(absl::string_view compact_jwe,
                                      absl::string_view launch_id) const;

 private:
  LaunchKey(EvpPkeyPtr key, ReleaseKey public_key)
      : key_(std::move(key)), public_(std::move(public_key)) {}

  EvpPkeyPtr key_;
  ReleaseKey public_;
};

}  // namespace fdattest

#endif  // FDATTEST_LAUNCHER_JWE_DECRYPT_H_
