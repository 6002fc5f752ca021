// The audit archive's per-decision records: the leaf the Merkle log commits
// to (ASCII lines of digests and pseudonymous ids, no personal data) and the
// decision record (canonical JSON of what re-running a verification offline
// needs besides the evidence, the policy text and the verifier's keys).
// Byte formats: docs/formats/archive.md ("Leaf, decision record and sealed
// blobs"). Plain values; Parse is strict (a leaf or record has exactly one
// serialisation). Thread-compatible.
#ifndef FDATTEST_VERIFIER_AUDIT_ARCHIVE_RECORDS_H_
#define FDATTEST_VERIFIER_AUDIT_ARCHIVE_RECORDS_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/strings/string_view.h"
#include "common/status.h"
#include "verifier/tpm_attest.h"

namespace fdattest {

// How long sealed blobs are kept by default: six years of 365 days plus two
// leap days (2 192 days), the most leap days six consecutive years can hold,
// so the retention is never shorter than six calendar years.
inline constexpr int64_t kDefaultRetentionSeconds = (6 * 365 + 2) * int64_t{86400};

// The largest serialised leaf Parse accepts.
inline constexpr size_t kMaxAuditLeafBytes = 1024;

struct AuditLeaf {
  std::string result_id;        // 32 lowercase hex digits
  int64_t time = 0;             // unix seconds of the decision, >= 0
  std::string tenant;           // the attester's tenant; "default" when there is none
  std::string attester_id;      // 32 lowercase hex digits, or empty ("-": no attester)
  std::string policy_id;        // 1..128 of A-Z a-z 0-9 . _ -
  int64_t policy_version = 0;   // >= 1
  std::string policy_sha256;    // hex sha256 of the policy text
  std::string evidence_sha256;  // the bundle's identity
  std::string result_sha256;    // hex sha256 of the stored result document's bytes
  std::string decision_sha256;  // hex sha256 of the decision record's bytes
  std::string verdict;          // affirming, warning, contraindicated or broken_evidence

  // InvalidArgument naming the first field out of its format.
  absl::Status Validate() const;
  // The leaf's bytes; well-formed only when Validate() is OK.
  std::string Serialize() const;
  // InvalidArgument unless `data` is exactly Serialize() of a valid leaf.
  static absl::StatusOr<AuditLeaf> Parse(absl::string_view data);

  bool operator==(const AuditLeaf&) const = default;
};

// The attester a decision was made for (it was active then).
struct DecisionAttester {
  std::string id;         // 32 lowercase hex digits
  std::string ak_name;    // hex TPM name of the AK
  std::string ak_public;  // marshalled TPM2B_PUBLIC (raw; base64 in the JSON)
  std::string state = "active";

  bool operator==(const DecisionAttester&) const = default;
};

struct DecisionRecord {
  static constexpr int64_t kVersion = 1;

  std::string result_id;
  int64_t time = 0;                          // the decision's unix seconds
  int64_t nonce_expires_at = 0;              // when the evidence's nonce expired (unix seconds)
  std::optional<DecisionAttester> attester;  // none: evidence from an unknown AK
  // The attester's counters before this decision (the rollback check's
  // baseline); none when it had none.
  std::optional<TpmCounters> previous_counters;
  std::string policy_id;
  int64_t policy_version = 0;
  std::string policy_sha256;
  std::string evidence_sha256;
  // Hex sha256 of the evidence bundle's exact bytes (its blob's address):
  // the identity above leaves out parts a run that ended early never read.
  std::string evidence_bytes_sha256;
  std::string tenant;
  // What the store answered the pipeline's hooks (verifier/verify.h), so an
  // offline re-run gets the same answers: the nonce step's refusal ("" when
  // the nonce was accepted, or the step was not reached), the identity
  // step's refusal ("" when the enrolled AK was found, or the step was not
  // reached). Printable ASCII, at most 512 bytes each.
  std::string nonce_refusal;
  std::string identity_refusal;
  // Hex sha256 of the TPM vendor CA certificates (PEM) the verifier trusted,
  // or "" when it trusted none (the EK step is then not checked).
  std::string tpm_ca_sha256;

  absl::Status Validate() const;
  // Canonical JSON (sorted keys, no whitespace).
  std::string Serialize() const;
  // InvalidArgument unless `json` is exactly Serialize() of a valid record.
  static absl::StatusOr<DecisionRecord> Parse(absl::string_view json);

  bool operator==(const DecisionRecord& o) const;
};

}  // namespace fdattest

#endif  // FDATTEST_VERIFIER_AUDIT_ARCHIVE_RECORDS_H_
