// Exporting an audit bundle (docs/formats/archive.md "Bundle") from the
// verifier's store: the decisions of a time range with their leaves,
// inclusion proofs to the latest checkpoint, the stored checkpoints inside
// the range with their consistency proofs, the blobs opened with their
// tenants' keys (or a `gone` file for shredded and expired ones), the policy
// versions and enrollment records they name, the TPM CAs they trusted and the
// verifier's public keys. Thread-compatible; the store may be serving.
#ifndef FDATTEST_VERIFIER_AUDIT_BUNDLE_EXPORT_H_
#define FDATTEST_VERIFIER_AUDIT_BUNDLE_EXPORT_H_

#include <cstdint>
#include <string>

#include "common/status.h"
#include "verifier/audit/bundle.h"
#include "verifier/secret_box.h"
#include "verifier/store.h"

namespace fdattest {

struct AuditExportRequest {
  Store* store = nullptr;
  const SecretBox* service_key = nullptr;  // opens the tenants' keys
  std::string log_vkey;                    // the log's verifier key
  std::string jwks;                        // the EAR signing keys, JWKS JSON
  std::string tpm_ca_pem;                  // the TPM CAs the verifier trusts (PEM)
  int64_t from = 0;                        // unix seconds, inclusive
  int64_t to = 0;                          // unix seconds, exclusive
  uint64_t max_entries = 100000;
};

// InvalidArgument for an empty range or one over max_entries; FailedPrecondition
// when a decision trusted TPM CAs other than `tpm_ca_pem` (its digest names
// them) or its blobs do not open (DataLoss); the store's errors otherwise.
absl::StatusOr<AuditBundle> ExportAuditBundle(const AuditExportRequest& request);

}  // namespace fdattest

#endif  // FDATTEST_VERIFIER_AUDIT_BUNDLE_EXPORT_H_
