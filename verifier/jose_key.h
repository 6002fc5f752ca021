// The verifier's signing key (an ES256 / P-256 private JWK) and compact JWS
// signing and verification on libjose. The key signs attestation results
// (verifier/ear.h); VerifyCompactJws checks any compact JWS against a public
// JWK the caller chose (results, the signed endpoint registry) and never
// trusts keys or key locations named in the token itself. Key files are JWK
// JSON, mode 0600 (docs/ear.md). Every jansson/libjose call in fdattest is in
// jose_key.cc and jose_jwe.cc (verifier/secret_release.h's encryption).
// Thread-safety: a SigningKey is immutable after construction; its const
// methods may be called from several threads. Free functions are stateless.
#ifndef FDATTEST_VERIFIER_JOSE_KEY_H_
#define FDATTEST_VERIFIER_JOSE_KEY_H_

#include <memory>
#include <string>

#include "absl/strings/string_view.h"
#include "common/base64.h"  // Base64UrlEncode/Decode, used with these functions
#include "common/json.h"
#include "common/openssl_ptr.h"
#include "common/status.h"

struct json_t;  // jansson's value type; only jose_key.cc looks inside.

namespace fdattest {

class SigningKey {
 public:
  // A fresh P-256 key from libjose (OpenSSL's RNG).
  static absl::StatusOr<SigningKey> Generate();

  // Reads a private JWK file. Refused: a file group or other may read or
  // write (PermissionDenied, "chmod 600"), anything but a regular file, and
  // any JWK that is not EC P-256 with "d", "x" and "y" of 32 bytes each, on
  // the curve and matching each other. Accepted extra members: "alg"
  // (ES256), "use" (sig), "key_ops" (must include "sign") and "kid" (must be
  // the thumbprint); unknown members are InvalidArgument. Keys written by
  // `jose jwk gen -i '{"alg":"ES256"}'` load.
  static absl::StatusOr<SigningKey> Load(const std::string& path);

  SigningKey(SigningKey&&) noexcept;
  SigningKey& operator=(SigningKey&&) noexcept;
  ~SigningKey();

  // Writes the private JWK (canonical JSON with "kid", "alg", "use") to a new
  // file with mode 0600. Never overwrites: an existing path is
  // FailedPrecondition, and a partly written file is removed.
  absl::Status Save(const std::string& path) const;

  // The published verification key: canonical JSON
  // {"alg":"ES256","crv":"P-256","kid":…,"kty":"EC","use":"sig","x":…,"y":…}.
  std::string PublicJwkJson() const;

  // RFC 7638 SHA-256 thumbprint of the public key, base64url.
  const std::string& kid() const { return kid_; }

  // Compact JWS over `payload` with protected header
  // {"alg":"ES256","kid":kid(),"typ":typ} ("typ" left out when empty). The
  // signature is the raw 64-byte R||S of RFC 7518 section 3.4. Signed with
  // OpenSSL on the key parsed once at load (rebuilding it from the JWK on
  // every call, as libjose does, cost more than the signature itself).
  absl::StatusOr<std::string> SignCompact(absl::string_view payload, absl::string_view typ) const;

 private:
  struct JwkDeleter {
    void operator()(json_t* jwk) const;
  };
  using JwkPtr = std::unique_ptr<json_t, JwkDeleter>;
  SigningKey(JwkPtr jwk, EvpPkeyPtr pkey, std::string kid, std::string public_jwk_json);
  // Validates a private JWK (see Load), computes the kid, and checks with one
  // signature that "d" belongs to ("x", "y").
  static absl::StatusOr<SigningKey> FromJwk(const Json& jwk, absl::string_view where);

  JwkPtr jwk_;  // normalised: kty, crv, x, y, d, alg
  EvpPkeyPtr pkey_;  // the same private key, for signing
  std::string kid_;
  std::string public_jwk_json_;
};

// Verifies a compact JWS with `public_jwk_json` (an EC P-256 public JWK; a
// JWK carrying "d" is refused so a private key is never used as a trust
// anchor by mistake) and returns the decoded payload. Refused: anything but
// three canonical base64url segments, a protected header that is not strict
// JSON, "alg" other than ES256 (none, HS256, …), header members other than
// alg/kid/typ/cty (so "jwk", "jku", "x5u", "x5c", "crit", "b64" are
// refused rather than ignored), a "kid" that is not this key's thumbprint, a
// signature that is not 64 bytes, and an empty payload. A bad signature is
// Unauthenticated; malformed input is InvalidArgument.
absl::StatusOr<std::string> VerifyCompactJws(absl::string_view jws,
                                             absl::string_view public_jwk_json);

}  // namespace fdattest

#endif  // FDATTEST_VERIFIER_JOSE_KEY_H_
