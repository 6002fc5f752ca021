// `fdattest audit verify`'s work: every check of an audit bundle
// (verifier/audit/bundle.h) against a pinned log key, without any service.
// The checkpoint's signature (and the named witnesses' cosignatures), every
// leaf's inclusion, every older checkpoint's signature and consistency, every
// file's digest against the leaf and decision record, the EARs against
// jwks.json, and every decision re-run offline (verifier/audit/reverify.h).
// What each check proves: docs/formats/archive.md, "Verifying a bundle".
// Stateless; thread-safe.
#ifndef FDATTEST_VERIFIER_AUDIT_BUNDLE_VERIFY_H_
#define FDATTEST_VERIFIER_AUDIT_BUNDLE_VERIFY_H_

#include <cstdint>
#include <string>
#include <vector>

#include "verifier/audit/bundle.h"
#include "verifier/audit/reverify.h"

namespace fdattest {

struct AuditVerifyOptions {
  std::string log_key;                    // the log's verifier key (vkey), pinned by the auditor
  std::vector<std::string> witness_keys;  // cosigner vkeys whose cosignature is required
};

struct AuditVerifyReport {
  std::vector<AuditFinding> findings;  // failures and notes, in bundle order
  uint64_t tree_size = 0;              // the checkpoint's size (0 if it did not open)
  size_t entries = 0;
  size_t reverified = 0;  // decisions re-run and reproduced
  size_t gone = 0;        // entries with shredded or expired blobs
  // No finding is a failure.
  bool ok() const;
};

AuditVerifyReport VerifyAuditBundle(const AuditBundle& bundle, const AuditVerifyOptions& options);
// Reads `dir` (AuditBundle::Read) and verifies it; a bundle Read refuses is
// one failure, naming what was refused.
AuditVerifyReport VerifyAuditBundleDir(const std::string& dir, const AuditVerifyOptions& options);

}  // namespace fdattest

#endif  // FDATTEST_VERIFIER_AUDIT_BUNDLE_VERIFY_H_
