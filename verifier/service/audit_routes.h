// The audit archive's routes (docs/service.md "Audit archive", docs/openapi.yaml):
// the log read as checkpoints, proofs and entries (auditor role), the same log
// as C2SP tlog-tiles resources under /v1/audit (so transparency-log tooling
// follows it: /v1/audit/checkpoint and /v1/audit/tile/...), witnesses'
// cosignatures, and crypto-shredding of a tenant (admin).
#ifndef FDATTEST_VERIFIER_SERVICE_AUDIT_ROUTES_H_
#define FDATTEST_VERIFIER_SERVICE_AUDIT_ROUTES_H_

#include "verifier/service/api.h"

namespace fdattest {

// GET /v1/audit/checkpoint: the latest signed checkpoint note (text/plain),
// with the witnesses' cosignatures stored for it.
ApiResponse HandleAuditCheckpoint(ServiceContext& context, const ApiRequest& request);
// GET /v1/audit/tile/{path...}: a hash tile or entry bundle of the latest
// checkpoint's tree (application/octet-stream).
ApiResponse HandleAuditTile(ServiceContext& context, const ApiRequest& request);
// GET /v1/audit/proof/inclusion?index=I|result=ID[&size=N] (N: the latest
// checkpoint's size when absent).
ApiResponse HandleInclusionProof(ServiceContext& context, const ApiRequest& request);
// GET /v1/audit/proof/consistency?from=M&to=N.
ApiResponse HandleConsistencyProof(ServiceContext& context, const ApiRequest& request);
// GET /v1/audit/entries?start=S&count=C (1..1024): the leaves' bytes.
ApiResponse HandleAuditEntries(ServiceContext& context, const ApiRequest& request);
// POST /v1/audit/cosignatures {"size": N, "cosignature": "— name base64"}: a
// configured witness's cosignature/v1 of the checkpoint of size N, verified,
// then stored and served with that checkpoint.
ApiResponse HandleAddCosignature(ServiceContext& context, const ApiRequest& request);
// DELETE /v1/tenants/{id}: forgets the tenant's data key and erases its blobs
// and result bodies (Store::ShredTenant); the log's leaves and checkpoints
// stay valid. 200 {"tenant", "shredded_at"}; again: 200 with the first time.
ApiResponse HandleShredTenant(ServiceContext& context, const ApiRequest& request);

}  // namespace fdattest

#endif  // FDATTEST_VERIFIER_SERVICE_AUDIT_ROUTES_H_
