// Per-tenant data keys and the sealing of the archive's blobs. Each tenant has
// its own 32-byte data key, stored only sealed under the service's secret key
// (verifier/secret_box.h, name "tenant:<id>"); its blobs (evidence, results,
// decision records) are sealed under that data key, so forgetting one sealed
// key (Store::ShredTenant) makes exactly that tenant's blobs unreadable.
// Format: docs/formats/archive.md ("Tenant keys", "Sealed blobs"). Stateless
// functions; thread-safe.
#ifndef FDATTEST_VERIFIER_AUDIT_TENANT_KEYS_H_
#define FDATTEST_VERIFIER_AUDIT_TENANT_KEYS_H_

#include <string>

#include "absl/strings/string_view.h"
#include "common/status.h"
#include "verifier/secret_box.h"
#include "verifier/store.h"

namespace fdattest {

// The name a tenant's data key is sealed under: "tenant:<id>".
std::string TenantKeyName(absl::string_view tenant);

// 32 fresh random bytes sealed under `service_key` for `tenant`: what
// Store::EnsureTenant stores.
absl::StatusOr<std::string> NewSealedTenantKey(const SecretBox& service_key,
                                               absl::string_view tenant);
// The tenant's data key as a box over its raw bytes. DataLoss when
// `sealed_key` does not open for this tenant under `service_key`;
// FailedPrecondition when it is empty (the tenant was shredded).
absl::StatusOr<SecretBox> OpenTenantKey(const SecretBox& service_key, absl::string_view tenant,
                                        absl::string_view sealed_key);

// The content address of a blob: hex SHA-256 of its plaintext.
std::string BlobAddress(absl::string_view plaintext);

// Seals `plaintext` (0..1 MiB) under the tenant's data key, binding tenant,
// kind and address as associated data, so a ciphertext moved to another
// address does not open. InvalidArgument unless `sha256` is
// BlobAddress(plaintext).
absl::StatusOr<std::string> SealBlob(const SecretBox& tenant_key, absl::string_view tenant,
                                     BlobKind kind, absl::string_view sha256,
                                     absl::string_view plaintext);
// The plaintext; DataLoss when `sealed` was not sealed for exactly this
// tenant, kind and address under this key, or its plaintext does not hash to
// `sha256`.
absl::StatusOr<std::string> OpenBlob(const SecretBox& tenant_key, absl::string_view tenant,
                                     BlobKind kind, absl::string_view sha256,
                                     absl::string_view sealed);

}  // namespace fdattest

#endif  // FDATTEST_VERIFIER_AUDIT_TENANT_KEYS_H_
