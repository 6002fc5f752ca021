#include "verifier/service/routes.h"

#include "verifier/service/attester_routes.h"
#include "verifier/service/audit_routes.h"
#include "verifier/service/handlers.h"

namespace fdattest {

std::vector<Route> ServiceRoutes() {
  return {
      {"POST", "/v1/challenge", Role::kNone, BodyKind::kOptionalJson, HandleChallenge},
      {"POST", "/v1/attest", Role::kNone, BodyKind::kJson, HandleAttest},
      {"GET", "/v1/attestations/{id}", Role::kNone, BodyKind::kNone, HandleGetAttestation},
      // Enrollment (verifier/service/attester_routes.h).
      {"POST", "/v1/attesters", Role::kNone, BodyKind::kJson, HandleEnroll},
      {"POST", "/v1/attesters/{id}/activate", Role::kNone, BodyKind::kJson, HandleActivate},
      {"GET", "/v1/attesters/{id}", Role::kAuditor, BodyKind::kNone, HandleGetAttester},
      {"DELETE", "/v1/attesters/{id}", Role::kAdmin, BodyKind::kNone, HandleRevokeAttester},
      {"PUT", "/v1/policies/{id}", Role::kAdmin, BodyKind::kJson, HandlePutPolicy},
      {"GET", "/v1/policies/{id}", Role::kAuditor, BodyKind::kNone, HandleGetPolicy},
      {"PUT", "/v1/secrets/{name}", Role::kAdmin, BodyKind::kJson, HandlePutSecret},
      // The audit archive (verifier/service/audit_routes.h).
      {"DELETE", "/v1/tenants/{id}", Role::kAdmin, BodyKind::kNone, HandleShredTenant},
      {"GET", "/v1/audit/checkpoint", Role::kAuditor, BodyKind::kNone, HandleAuditCheckpoint},
      {"GET", "/v1/audit/tile/{path...}", Role::kAuditor, BodyKind::kNone, HandleAuditTile},
      {"GET", "/v1/audit/proof/inclusion", Role::kAuditor, BodyKind::kNone, HandleInclusionProof},
      {"GET", "/v1/audit/proof/consistency", Role::kAuditor, BodyKind::kNone,
       HandleConsistencyProof},
      {"GET", "/v1/audit/entries", Role::kAuditor, BodyKind::kNone, HandleAuditEntries},
      {"POST", "/v1/audit/cosignatures", Role::kAuditor, BodyKind::kJson, HandleAddCosignature},
      {"GET", "/.well-known/fdattest-keys", Role::kNone, BodyKind::kNone, HandleKeys},
      {"GET", "/healthz", Role::kNone, BodyKind::kNone, HandleHealth},
      {"GET", "/metrics", Role::kNone, BodyKind::kNone, HandleMetrics},
  };
}

}  // namespace fdattest
