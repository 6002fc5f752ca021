// `fdlaunch enroll`: enrolls the host's attestor with the verifier service
// (docs/launcher.md, "Enrollment"). The attestor's EK certificate and AK
// public area go to POST /v1/attesters; the verifier's credential, which only
// this TPM can release for this AK, comes back through the attestor's
// activate_credential and goes to POST /v1/attesters/{id}/activate. The
// answers are read strictly: the verifier must name the attestor's own AK.
// The credential is never printed or written. Uses common/ only (fdlaunch is
// linked statically). Thread-compatible.
#ifndef FDATTEST_LAUNCHER_ENROLL_H_
#define FDATTEST_LAUNCHER_ENROLL_H_

#include <string>

#include "absl/strings/string_view.h"
#include "common/attestor_api.h"
#include "common/https_client.h"
#include "common/status.h"
#include "launcher/attestor_client.h"

namespace fdattest {

// What POST /v1/attesters answers.
struct EnrollChallenge {
  std::string id;                // 32 lowercase hex digits
  std::string ak_name;           // raw bytes
  std::string credential_blob;   // marshalled TPM2B_ID_OBJECT
  std::string encrypted_secret;  // marshalled TPM2B_ENCRYPTED_SECRET
};

// The enrollment request for the attestor's `info`. InvalidArgument when the
// TPM holds no EK certificate (nothing the verifier could check).
absl::StatusOr<std::string> EnrollRequestBody(const InfoResponse& info, bool replace);
// InvalidArgument unless `body` is exactly {"id", "state": "pending",
// "ak_name", "credential_blob", "encrypted_secret"} with well-formed values.
absl::StatusOr<EnrollChallenge> ParseEnrollResponse(absl::string_view body);
std::string ActivateRequestBody(absl::string_view credential);
// InvalidArgument unless `body` is exactly {"id": id, "state": "active"}.
absl::Status CheckActivateResponse(absl::string_view body, absl::string_view id);

// The whole enrollment; the active attester's id. Every error names its
// step ("attestor: ...", "verifier: ...").
absl::StatusOr<std::string> Enroll(AttestorClient& attestor, const HttpsClient& verifier,
                                   bool replace);

}  // namespace fdattest

#endif  // FDATTEST_LAUNCHER_ENROLL_H_
