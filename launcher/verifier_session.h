// fdlaunch's side of the verifier service (docs/service.md): a nonce from
// POST /v1/challenge for the evidence, and the verifier's answer to the
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
#include "launcher/secret_source.h"

namespace fdattest {

class VerifierSession : public SecretSource {
 public:
  // `policy`: the policy id to judge the launch by; empty: the policy the
  // requested secrets are bound to (the verifier's choice).
  static absl::StatusOr<VerifierSession> Open(absl::string_view url, const std::string& ca_file,
                                              std::string policy = "");

  // A fresh nonce (raw bytes) from POST /v1/challenge.
  absl::StatusOr<std::string> Challenge() override;
  // POST /v1/attest?policy=…&release=… with the bundle: the verdict, the
  // rules that did not pass ("R3 (fail): title: reason"), the released JWEs
  // and the refusals.
  absl::StatusOr<ReleaseOutcome> Release(absl::string_view evidence,
                                         const std::vector<std::string>& names) override;
  // GET /healthz: the service answers (before anything on disk changes).
  absl::Status Probe() override;

 private:
  VerifierSession(HttpsClient client, std::string policy)
      : client_(std::move(client)), policy_(std::move(policy)) {}
  HttpsClient client_;
  std::string policy_;
};

// Names of secrets and policy ids as the API accepts them: 1-64 of
// [A-Za-z0-9._-].
bool IsServiceName(absl::string_view name);

}  // namespace fdattest

#endif  // FDATTEST_LAUNCHER_VERIFIER_SESSION_H_
