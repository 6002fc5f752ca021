// What one attestation leaves in the audit archive (docs/formats/archive.md):
// its leaf (digests and pseudonymous ids only), its decision record (what an
// offline re-run needs besides evidence, policy and keys), and its evidence,
// result document and decision record sealed under its tenant's data key.
// fdverifierd hands the entry to Store::CommitAttestation with the result, so
// the leaf is appended in the transaction that records the decision.
#ifndef FDATTEST_VERIFIER_SERVICE_ARCHIVE_ENTRY_H_
#define FDATTEST_VERIFIER_SERVICE_ARCHIVE_ENTRY_H_

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "absl/strings/string_view.h"
#include "common/status.h"
#include "verifier/secret_box.h"
#include "verifier/store.h"

namespace fdattest {

// The tenants' data keys (verifier/audit/tenant_keys.h) this process has
// opened: made and stored on a tenant's first use (Store::EnsureTenant), kept
// open, forgotten when the tenant is shredded through this process. A
// shredded tenant gets no key (FailedPrecondition). Thread-safe.
class TenantKeyCache {
 public:
  TenantKeyCache(Store* store, const SecretBox* service_key)
      : store_(store), service_key_(service_key) {}
  TenantKeyCache(const TenantKeyCache&) = delete;
  TenantKeyCache& operator=(const TenantKeyCache&) = delete;

  absl::StatusOr<std::shared_ptr<const SecretBox>> Get(absl::string_view tenant, int64_t now);
  void Forget(absl::string_view tenant);

 private:
  Store* store_;
  const SecretBox* service_key_;
  std::mutex mu_;
  std::map<std::string, std::shared_ptr<const SecretBox>, std::less<>> keys_;  // guarded by mu_
};

// What the attestation handler knows about one decision.
struct ArchiveFacts {
  const ResultRecord* result = nullptr;  // as stored (body included)
  absl::string_view evidence;            // the bundle's bytes
  const PolicyRecord* policy = nullptr;  // the version the decision was made under
  const AttesterRecord* attester = nullptr;  // the active attester found, or null
  std::optional<TpmCounters> previous_counters;
  int64_t nonce_expires_at = 0;
  std::string nonce_refusal;     // what the nonce hook answered, "" for OK
  std::string identity_refusal;  // what the identity hook answered, "" for OK
  std::string tpm_ca_sha256;     // the trusted TPM CAs' digest, "" for none
};

// The entry: its leaf and the three sealed blobs, which expire after
// `retention_seconds`.
absl::StatusOr<AuditAppend> BuildArchiveEntry(const ArchiveFacts& facts, TenantKeyCache& keys,
                                              int64_t retention_seconds);

}  // namespace fdattest

#endif  // FDATTEST_VERIFIER_SERVICE_ARCHIVE_ENTRY_H_
