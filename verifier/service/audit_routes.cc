#include "verifier/service/audit_routes.h"

#include "absl/strings/str_cat.h"
#include "verifier/service/archive_entry.h"

namespace fdattest {

ApiResponse HandleShredTenant(ServiceContext& context, const ApiRequest& request) {
  if (request.role != Role::kAdmin) {
    return Problem(403, "role-forbidden", "Forbidden", "this route needs role admin");
  }
  auto it = request.path_params.find("id");
  if (it == request.path_params.end() || !CheckTenantId(it->second).ok()) {
    return Problem(400, "bad-tenant", "Bad request",
                   "a tenant id is 1..64 of A-Z a-z 0-9 . _ -");
  }
  const std::string& tenant = it->second;
  if (context.store == nullptr || !context.now) return StoreProblem(absl::InternalError("no store"));
  // Forgotten first, so no attestation of this process seals under the key
  // once the shred has begun (the store refuses a shredded tenant's blobs).
  if (context.tenant_keys != nullptr) context.tenant_keys->Forget(tenant);
  if (absl::Status s = context.store->ShredTenant(tenant, context.now()); !s.ok()) {
    return StoreProblem(s);
  }
  if (context.tenant_keys != nullptr) context.tenant_keys->Forget(tenant);
  absl::StatusOr<TenantRecord> record = context.store->GetTenant(tenant);
  if (!record.ok()) return StoreProblem(record.status());
  ApiResponse response = JsonReply(200, Json{{"tenant", tenant}, {"shredded_at", record->shredded_at}});
  response.log = {{"shredded", tenant}};
  return response;
}

}  // namespace fdattest
