// Secret release, the verifier's side: which requested secrets an
// attestation earns (ReleaseSecrets, a pure decision over the verification
// result) and the compact JWE that carries one to the launch that earned it
// (EncryptSecretForLaunch, on libjose: jose_jwe.cc). fdlaunch opens the JWE
// with its launch key (launcher/jwe_decrypt.h) and hands the secret to the
// workload in a sealed memfd. Stateless; thread-safe.
#ifndef FDATTEST_VERIFIER_SECRET_RELEASE_H_
#define FDATTEST_VERIFIER_SECRET_RELEASE_H_

#include <map>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "common/json.h"
#include "common/status.h"
#include "verifier/policy_model.h"
#include "verifier/verify.h"

namespace fdattest {

// Compact JWE of `plaintext` to `release_key_jwk` (a manifest's release_key:
// an EC P-256 public JWK of exactly kty, crv, x and y, a point on the curve),
// protected header {"alg":"ECDH-ES","enc":"A256GCM","epk":…,"kid":launch_id}
// with a fresh ephemeral key. InvalidArgument for a key that is not such a
// JWK, an empty plaintext or a launch id that is not 32 lowercase hex digits.
absl::StatusOr<std::string> EncryptSecretForLaunch(const Json& release_key_jwk,
                                                   absl::string_view plaintext,
                                                   absl::string_view launch_id);

// One requested secret as the verifier keeps it.
struct BoundSecret {
  std::string name;
  std::string policy_id;  // the policy whose affirming verdict releases it
};

struct ReleaseDecision {
  std::vector<std::string> released;           // names, in request order
  std::map<std::string, std::string> refused;  // name -> why, one line
};

// Decides, for each requested secret, whether the attestation `result`
// (judged under `policy`) earns it. Released only when all hold:
//  - the verdict is affirming and the chain intact (a verified manifest);
//  - the secret is bound to `policy` (its id), and `policy.secrets` lists it;
//  - the manifest carries a release_key;
//  - the manifest declares an fd with "secret" equal to the name.
// Every other name gets the first reason that fails, in that order. A name
// requested twice is decided once.
ReleaseDecision ReleaseSecrets(const VerifyResult& result, const Policy& policy,
                               const std::vector<BoundSecret>& requested);

}  // namespace fdattest

#endif  // FDATTEST_VERIFIER_SECRET_RELEASE_H_
