// Re-running one archived decision offline: the verification pipeline
// (verifier/verify.h) fed only from what the archive recorded (the evidence,
// the policy text the leaf names, the TPM CA the decision trusted, and the
// decision record's time, hook answers and counters), and the re-run compared
// with the recorded result document, the way fdverifierd built it
// (verifier/service/attest_handler.cc). Never throws: every disagreement is a
// finding. Stateless; thread-safe.
#ifndef FDATTEST_VERIFIER_AUDIT_REVERIFY_H_
#define FDATTEST_VERIFIER_AUDIT_REVERIFY_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "common/json.h"
#include "verifier/audit/archive_records.h"
#include "verifier/policy.h"
#include "verifier/verify.h"

namespace fdattest {

// What the service's identity hook answers for an AK no attester holds
// (attest_handler.cc, EnrolledAk); a re-run answers it when the record names
// neither an attester nor a refusal.
inline constexpr absl::string_view kNotEnrolledRefusal = "not enrolled: no attester has this AK";

// One thing that does not verify, or (failure = false) a fact worth saying,
// such as a shredded entry. `file` is a path relative to the bundle.
struct AuditFinding {
  std::string file;
  std::string what;
  bool failure = true;
};

// The inputs of one archived decision. The leaf and record are parsed
// already; the bytes are the bundle's files.
struct ArchivedDecision {
  const AuditLeaf* leaf = nullptr;
  const DecisionRecord* record = nullptr;
  absl::string_view evidence;     // evidence.json
  absl::string_view result;       // result.json: the stored result document
  absl::string_view policy_text;  // the policy text whose sha256 the leaf names
  absl::string_view tpm_ca_pem;   // the PEM whose sha256 the record names; empty for ""
  std::string entry_dir;          // how findings name the entry: "entries/17"
  std::string policy_file;        // and the policy: "policies/<sha256>.json"
};

struct ReverifyOutcome {
  std::vector<AuditFinding> findings;  // empty: the decision reproduces
  std::optional<Policy> policy;        // the parsed policy, when it parsed
  std::optional<VerifyResult> rerun;   // the re-run's result, when it ran
  Json recorded;                       // the parsed result document (null if it did not parse)
};

// The VerifyRequest hooks answer as the record says: consume_nonce OK, or
// PermissionDenied(nonce_refusal); enrolled_ak the attester's AK, or
// PermissionDenied(identity_refusal), or kNotEnrolledRefusal;
// previous_counters the record's; now the record's time. Then the re-run's
// ReportJson (with "policy_id" the parsed policy's id) must equal the
// document's "report", and its verdict, failure class and reason the
// document's (and the verdict the leaf's). A re-run that does not reproduce
// the document is a finding on the entry (entry_dir): the evidence, the policy
// text, the TPM CA or the document is not what the decision was made with.
// Findings on one file name it (the document's form: result.json; an
// identity that is not the leaf's: evidence.json; the policy text).
ReverifyOutcome ReverifyDecision(const ArchivedDecision& decision);

// The first place two JSON values differ, as a JSON pointer ("" when the
// roots differ in type or scalar value); nullopt when equal.
std::optional<std::string> FirstJsonDifference(const Json& a, const Json& b);

}  // namespace fdattest

#endif  // FDATTEST_VERIFIER_AUDIT_REVERIFY_H_
