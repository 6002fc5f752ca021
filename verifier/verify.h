// The verifier pipeline (DESIGN.md "Verifier pipeline", steps 1-9): from an
// evidence bundle's bytes to a verdict with reasons. Pure: no network, no
// files, no ESYS; the clock only for the EK certificate's validity. The offline
// command (`fdattest verify`) and the HTTP service only adapt it.
//
// Steps, each reported in VerifyResult::steps in this order; the first failed
// step of 1-6 ends the run as a broken evidence chain:
//   1 evidence   strict parse of the bundle (common/evidence.h)
//   2 nonce      the bundle's nonce is the one this verifier expects
//   3 identity   AK == the enrolled AK (exact bytes), AK profile, EK
//                certificate chains to a trusted TPM CA, AK qualified name
//                recomputed from the certified EK
//   4 attestation TPMS_ATTEST/TPMT_SIGNATURE checks (verifier/tpm_attest.h),
//                boot counters equal to the epoch's and monotonic per attester
//   5 event_log  replay of the served epoch to the certified register value;
//                this launch's manifest and separator records, in full
//   6 manifest   strict manifest parse, launch id and attested flag
//   7 filter     BPF proof of the launcher properties for the manifest's
//                declared fds (a failure here is a policy matter: rule R0)
//   8 policy     rules R0-R14 (verifier/policy.h)
// Thread-safe: Verify() may run concurrently; FilterProofCache locks.
#ifndef FDATTEST_VERIFIER_VERIFY_H_
#define FDATTEST_VERIFIER_VERIFY_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "common/bpf_properties.h"
#include "common/json.h"
#include "common/manifest.h"
#include "common/status.h"
#include "verifier/ear.h"
#include "verifier/policy.h"
#include "verifier/tpm_attest.h"

namespace fdattest {

// The fd sets a manifest declares, as the launcher built its filter for them.
FdSets FdSetsOfManifest(const Manifest& manifest);

// Proofs of launcher properties by (filter sha256, declared fd sets): the
// expensive part of a verification, identical for every launch of a job.
// Bounded; thread-safe.
class FilterProofCache {
 public:
  explicit FilterProofCache(size_t max_entries = 1024) : max_entries_(max_entries) {}
  // The cached result for `bpf` and `fds`, computing it on a miss.
  absl::StatusOr<PropertyList> Prove(absl::string_view bpf, const FdSets& fds);
  size_t hits() const;
  size_t misses() const;

 private:
  mutable std::mutex mu_;
  std::map<std::string, absl::StatusOr<PropertyList>> entries_;
  size_t max_entries_;
  size_t hits_ = 0, misses_ = 0;
};

// Proves the launcher properties of `bpf` for `fds` (no cache).
absl::StatusOr<std::vector<PropertyResult>> ProveFilter(absl::string_view bpf, const FdSets& fds);

// What a verifier proves about an attester's identity, once: the enrolled AK
// parsed and checked (its point on the curve costs more than a signature
// check), and the AK's binding to a certified EK (the chain verified, the
// qualified name recomputed) by (CA set, EK certificate, AK). A cached binding
// is used only within the EK certificate's validity period, checked per call.
// Bounded; thread-safe.
class IdentityCache {
 public:
  explicit IdentityCache(size_t max_entries = 4096) : max_entries_(max_entries) {}
  absl::StatusOr<std::shared_ptr<const AkPublic>> Ak(absl::string_view ak_tpm2b_public);
  // The AK's qualified name under the EK that `ek_der` certifies, after the
  // certificate was found to chain to `ca_pem` (errors as CheckEkCertificate
  // and AkQualifiedName give them; failures are not cached). A remembered
  // binding holds only while every certificate of its chain is valid.
  absl::StatusOr<std::string> EkBoundQualifiedName(absl::string_view ek_der,
                                                   absl::string_view ak_tpm2b_public,
                                                   absl::string_view ca_pem, int64_t now);

 private:
  struct Binding {
    std::string qualified_name;
    int64_t not_before = 0, not_after = 0;
  };
  std::mutex mu_;
  std::map<std::string, std::shared_ptr<const AkPublic>> aks_;
  std::map<std::string, Binding> bindings_;
  size_t max_entries_;
};

// What the verifier trusts, configured by its operator.
struct TrustAnchors {
  std::string ak_public;  // the enrolled AK: marshalled TPM2B_PUBLIC (fdattestd's ak.pub)
  // PEM certificates of trusted TPM vendor CAs. Empty: the EK certificate is
  // not checked, the attester's hardware is "not evaluated", and the best
  // possible result is a warning.
  std::string tpm_ca_pem;
};

struct VerifyRequest {
  absl::string_view evidence;  // the bundle's bytes
  const TrustAnchors* anchors = nullptr;
  const Policy* policy = nullptr;
  // The nonce this verifier issued for this attestation (raw bytes). Absent:
  // freshness is not established (rule R11 not evaluable).
  std::optional<std::string> expected_nonce;
  // A verifier that issues nonces itself (verifier/state.h) sets this
  // instead: called once, in step 2, with the bundle's nonce; OK makes it the
  // expected nonce, an error (never issued, expired, already used) refuses it.
  std::function<absl::Status(absl::string_view nonce)> consume_nonce;
  // The counters last seen, signed, from this attester (by AK). Absent: first
  // contact, monotonicity not established.
  std::optional<TpmCounters> previous_counters;
  // Or looked up by the AK's qualified name (hex) once the AK is known to be
  // the enrolled one.
  std::function<std::optional<TpmCounters>(absl::string_view ak_name_hex)> previous_counters_of;
  const EndpointRegistry* registry = nullptr;  // already signature-checked
  FilterProofCache* cache = nullptr;           // optional
  IdentityCache* identity_cache = nullptr;     // optional
};

enum class Verdict { kAffirming, kWarning, kContraindicated, kBrokenEvidence };
absl::string_view VerdictName(Verdict verdict);
// The exit status of `fdattest verify`: 0 affirming, 1 warning,
// 2 contraindicated, 3 broken evidence.
int VerdictExitCode(Verdict verdict);

enum class FailureClass { kNone, kBrokenEvidenceChain, kPolicyViolation };
absl::string_view FailureClassName(FailureClass c);  // "", "broken_evidence_chain", "policy_violation"

struct StepReport {
  std::string id;  // "evidence", "nonce", "identity", ...
  enum class Outcome { kPass, kFail, kNotChecked } outcome = Outcome::kNotChecked;
  std::string detail;
};
absl::string_view StepOutcomeName(StepReport::Outcome outcome);

struct VerifyResult {
  Verdict verdict = Verdict::kBrokenEvidence;
  FailureClass failure = FailureClass::kBrokenEvidenceChain;
  std::string reason;  // the first fatal finding, one line
  std::vector<StepReport> steps;
  std::vector<RuleResult> rules;  // empty unless steps 1-6 passed
  std::map<std::string, int> trust_vector;

  // Known once the bundle parsed (advisory until the chain is intact).
  std::string evidence_sha256;  // hex, of the bundle's bytes
  std::string nonce;            // raw
  std::string launch_id;
  std::string manifest_sha256;  // hex
  // Set only when the chain is intact (steps 1-6 passed).
  std::optional<Manifest> manifest;
  std::string ak_name;  // AK qualified name, hex
  std::optional<TpmCounters> counters;
  PropertyList filter_properties;  // null when the filter could not be analysed
};

VerifyResult Verify(const VerifyRequest& request);

// The readable report (for people) and the JSON report (for programs).
std::string ReportText(const VerifyResult& result);
Json ReportJson(const VerifyResult& result);

// The EAR for a result: status tier by verdict, trust vector, the policy id,
// the nonce, and our per-rule results and digests as the private claim.
EarInput MakeEarInput(const VerifyResult& result, const Policy& policy, int64_t now,
                      int64_t lifetime_seconds);

}  // namespace fdattest

#endif  // FDATTEST_VERIFIER_VERIFY_H_
