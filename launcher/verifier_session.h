// fdlaunch's side of the verifier service (docs/service.md): a nonce from
// POST /v1/challenge before the launch, and the verifier's answer to the
// launch's evidence from POST /v1/attest — its verdict, the rules that did
// not pass, and the released secrets as compact JWEs for the launch's
// release key (docs/formats/manifest.md). Transport: common/https_client.h.
// Answers are parsed strictly; nothing here decrypts. Thread-compatible.
#ifndef FDATTEST_LAUNCHER_VERIFIER_SESSION_H_
#define FDATTEST_LAUNCHER_VERIFIER_SESSION_H_

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "common/https_client.h"
#include "common/status.h"

namespace fdattest {

struct AttestOutcome {
  std::string id;       // the attestation's id at the verifier
  std::string verdict;  // "affirming", "warning", "contraindicated", "broken_evidence"
  std::string reason;   // the first fatal finding, when not affirming
  // "R3 (fail): outputs only encrypted: ..." for every rule that did not pass.
  std::vector<std::string> unmet_rules;
  std::map<std::string, std::string> secrets;  // name -> compact JWE
  std::map<std::string, std::string> refused;  // name -> why

  // Everything a person needs when the launch stops here, one line each.
  std::vector<std::string> RefusalLines() const;
};

class VerifierSession {
 public:
  static absl::StatusOr<VerifierSession> Open(absl::string_view url, const std::string& ca_file);

  // A fresh nonce (raw bytes) from POST /v1/challenge.
  absl::StatusOr<std::string> Challenge() const;
  // POST /v1/attest with the bundle. `policy` may be empty when `release`
  // names secrets (the verifier then uses their bound policy).
  absl::StatusOr<AttestOutcome> Attest(absl::string_view evidence, absl::string_view policy,
                                       const std::vector<std::string>& release) const;

 private:
  explicit VerifierSession(HttpsClient client) : client_(std::move(client)) {}
  HttpsClient client_;
};

// Names of secrets and policy ids as the API accepts them: 1-64 of
// [A-Za-z0-9._-].
bool IsServiceName(absl::string_view name);

}  // namespace fdattest

#endif  // FDATTEST_LAUNCHER_VERIFIER_SESSION_H_
