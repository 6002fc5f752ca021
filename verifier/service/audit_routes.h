// The audit archive's routes (docs/service.md "Audit archive"):
// DELETE /v1/tenants/{id} (admin) crypto-shreds a tenant.
#ifndef FDATTEST_VERIFIER_SERVICE_AUDIT_ROUTES_H_
#define FDATTEST_VERIFIER_SERVICE_AUDIT_ROUTES_H_

#include "verifier/service/api.h"

namespace fdattest {

// Forgets the tenant's data key and erases its blobs and result bodies
// (Store::ShredTenant); the log's leaves and checkpoints stay valid. 200
// {"tenant", "shredded_at"}; shredding again is 200 with the first time.
ApiResponse HandleShredTenant(ServiceContext& context, const ApiRequest& request);

}  // namespace fdattest

#endif  // FDATTEST_VERIFIER_SERVICE_AUDIT_ROUTES_H_
