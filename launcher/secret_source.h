// Secret release for an attested launch (docs/launcher.md, step 12b): where
// the secrets come from (SecretSource, the verifier behind a transport the
// caller chooses: fdlaunch's HTTPS client, or a fake in tests), the check
// that the release configuration matches the profile's secret fds (step 1),
// and the step that asks for the secrets with the launch's evidence, decrypts
// them with the launch key and fills their fds. Single-threaded launcher only.
#ifndef FDATTEST_LAUNCHER_SECRET_SOURCE_H_
#define FDATTEST_LAUNCHER_SECRET_SOURCE_H_

#include <map>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "common/profile.h"
#include "common/status.h"
#include "launcher/jwe_decrypt.h"
#include "launcher/secret_fd.h"

namespace fdattest {

// The verifier's answer to one attestation with a release request.
struct ReleaseOutcome {
  std::string attestation_id;                  // the verifier's id of this result (may be empty)
  std::map<std::string, std::string> secrets;  // name -> compact JWE to the launch key
  std::map<std::string, std::string> refused;  // name -> why it was not released
  std::string verdict;                         // "affirming", "warning", ...
  std::string reason;                          // the verdict's one-line reason
  // The rules that failed (or were fatally not evaluable), one line each,
  // e.g. "R3 output only encrypted: fd 1 (phi-output): ext4: persisted, not encrypted".
  std::vector<std::string> failed_rules;
};

// Where the secrets come from. Implementations do the transport; the launch
// decides nothing from what they say but which bytes to decrypt.
class SecretSource {
 public:
  virtual ~SecretSource() = default;
  // OK when the verifier answers at all: asked before anything on disk
  // changes, so an unreachable verifier fails the launch early.
  virtual absl::Status Probe() = 0;
  // A fresh nonce from the verifier (raw bytes, 1..64), for the evidence.
  virtual absl::StatusOr<std::string> Challenge() = 0;
  // Sends the evidence bundle's exact bytes and asks for `names`. An error
  // is a failed exchange; a refusal is an outcome (secrets missing, reasons
  // in `refused`, verdict and failed rules).
  virtual absl::StatusOr<ReleaseOutcome> Release(absl::string_view evidence,
                                                 const std::vector<std::string>& names) = 0;
};

// Step 1: every secret fd of the profile is named by exactly one `release`
// name and every name by a secret fd; a release needs an attested launch,
// a source, and no nonce of the caller's (the verifier's challenge is the
// nonce). InvalidArgument naming what does not match: checked before
// anything on disk changes, so a workload never starts with an empty secret
// fd.
absl::Status CheckReleaseOptions(const Profile& profile, const std::vector<std::string>& release,
                                 bool attested, bool has_source, bool has_nonce);

// Step 12b: asks `source` for every secret `pending` holds, with the launch's
// evidence; decrypts each released JWE with `key` for `launch_id` and fills
// its fd (PendingSecrets::Fill). Any secret not released is PermissionDenied,
// one line naming the verdict, its reason, each refused secret and the
// failed rules; a JWE that does not decrypt fails the launch as well.
// Plaintexts are cleansed as soon as they are in their memfd.
absl::Status ReceiveSecrets(SecretSource& source, absl::string_view evidence,
                            absl::string_view launch_id, const LaunchKey& key,
                            PendingSecrets& pending);

}  // namespace fdattest

#endif  // FDATTEST_LAUNCHER_SECRET_SOURCE_H_
