// Attester enrollment, the logic behind POST /v1/attesters and POST
// /v1/attesters/{id}/activate (verifier/service/attester_routes.h): an attester presents its
// EK certificate and AK public area; the verifier checks the certificate
// against the TPM vendor CAs and the AK against the AK profile, makes a
// credential for the AK's name against the EK (verifier/make_credential.h)
// and records a pending attester that holds only the credential's SHA-256.
// The attester's TPM recovers the credential with TPM2_ActivateCredential,
// which it does only if the AK is loaded in the TPM that holds the EK; the
// answer activates the attester. One answer per enrollment: a wrong one
// voids it.
//
// Pure functions of the ServiceContext (store, CAs, clock, randomness); no
// HTTP. Thread-safe as far as the context's pointees are.
#ifndef FDATTEST_VERIFIER_ENROLLMENT_H_
#define FDATTEST_VERIFIER_ENROLLMENT_H_

#include <cstddef>
#include <string>

#include "absl/strings/string_view.h"
#include "common/status.h"
#include "verifier/service/api.h"
#include "verifier/store.h"

namespace fdattest {

// The credential's length: 32 random bytes, the SHA-256 EK's maximum.
inline constexpr size_t kEnrollmentCredentialBytes = 32;

// What the attester needs to answer the challenge.
struct EnrollmentChallenge {
  std::string id;                // the pending attester's id, 32 hex digits
  std::string ak_name;           // the AK's TPM name (raw bytes)
  std::string credential_blob;   // marshalled TPM2B_ID_OBJECT
  std::string encrypted_secret;  // marshalled TPM2B_ENCRYPTED_SECRET
};

// Checks, in this order, and records a pending attester:
//   1. the EK certificate (DER) chains to context.tpm_ca_pem
//      (InvalidArgument "bad-ek-certificate" when undecodable or not an RSA
//      2048 EK; PermissionDenied "ek-untrusted" when it does not chain);
//   2. the AK (marshalled TPM2B_PUBLIC) is an AK: restricted, fixedTPM,
//      fixedParent, sensitiveDataOrigin, signing, ECC P-256 (InvalidArgument
//      "bad-ak");
//   3. the AK is not enrolled already (AlreadyExists "ak-already-enrolled");
//   4. the EK has no active attester, unless `replace` and the caller is an
//      administrator, in which case that attester is revoked (AlreadyExists
//      "ek-already-enrolled").
// The attester belongs to `tenant` (the audit archive's: its decisions'
// blobs are sealed under that tenant's key; verifier/store.h CheckTenantId).
// Store failures are returned as they come (Internal for the caller).
absl::StatusOr<EnrollmentChallenge> StartEnrollment(ServiceContext& context,
                                                    absl::string_view ek_certificate_der,
                                                    absl::string_view ak_public, bool replace,
                                                    bool caller_is_admin,
                                                    absl::string_view tenant = "default");

// Activates pending attester `id` if `answer` is its credential; returns the
// record as stored after activation. NotFound "unknown-attester";
// PermissionDenied "activation-failed" for a wrong answer (the pending
// attester is then void: enroll again); FailedPrecondition "not-pending"
// when it is active or revoked; AlreadyExists "ek-already-enrolled" when
// another attester of the EK was activated meanwhile.
absl::StatusOr<AttesterRecord> FinishEnrollment(ServiceContext& context, absl::string_view id,
                                                absl::string_view answer);

// The problem type (the slug after kProblemTypeBase) that a status returned
// by StartEnrollment or FinishEnrollment names, or `fallback` when it names
// none.
std::string EnrollmentProblem(const absl::Status& status, absl::string_view fallback);

}  // namespace fdattest

#endif  // FDATTEST_VERIFIER_ENROLLMENT_H_
