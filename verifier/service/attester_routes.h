// fdverifierd's attester routes, as Handlers
// (verifier/service/api.h) around verifier/enrollment.h:
//   POST   /v1/attesters                -> HandleEnroll      (no role; the TPM authenticates)
//   POST   /v1/attesters/{id}/activate  -> HandleActivate    (no role)
//   GET    /v1/attesters/{id}           -> HandleGetAttester (auditor or admin)
//   DELETE /v1/attesters/{id}           -> HandleRevokeAttester (admin)
// Each handler checks its own role (401 client-certificate-required without a
// certificate, 403 role-forbidden with another role) and parses its body
// strictly (400 bad-request). Responses never carry a credential or its hash.
// Stateless; thread-safe as far as the context's pointees are.
#ifndef FDATTEST_VERIFIER_SERVICE_ATTESTER_ROUTES_H_
#define FDATTEST_VERIFIER_SERVICE_ATTESTER_ROUTES_H_

#include "verifier/service/api.h"
#include "verifier/store.h"

namespace fdattest {

// Body {"ek_certificate": "<base64 DER>", "ak_public": "<base64
// TPM2B_PUBLIC>", "replace": false (optional)}. 200 {"id", "state":
// "pending", "ak_name" (hex), "credential_blob", "encrypted_secret"
// (base64)}; 403 ek-untrusted, 400 bad-ek-certificate / bad-ak, 409
// ek-already-enrolled / ak-already-enrolled.
ApiResponse HandleEnroll(ServiceContext& context, const ApiRequest& request);

// Path {id}; body {"secret": "<base64 recovered credential>"}. 200 {"id",
// "state": "active"}; 403 activation-failed (the enrollment is then void),
// 409 not-pending, 404 unknown-attester.
ApiResponse HandleActivate(ServiceContext& context, const ApiRequest& request);

// The record without its credential: {"id", "state", "ek_sha256",
// "ek_certificate", "ak_public" (base64), "ak_name" (hex), "created_at",
// "activated_at", "revoked_at"} (times 0 when not yet). 404 unknown-attester.
ApiResponse HandleGetAttester(ServiceContext& context, const ApiRequest& request);

// Revokes (any state; revoking twice keeps the first time). 200 {"id",
// "state": "revoked"}; 404 unknown-attester.
ApiResponse HandleRevokeAttester(ServiceContext& context, const ApiRequest& request);

// The JSON document GET /v1/attesters/{id} serves for `record`.
Json AttesterJson(const AttesterRecord& record);

}  // namespace fdattest

#endif  // FDATTEST_VERIFIER_SERVICE_ATTESTER_ROUTES_H_
