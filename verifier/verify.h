// The verifier pipeline: from an evidence bundle's bytes to a verdict with
// reasons. Pure: no network, no files, no ESYS; the clock only for the EK
// certificate's validity. The offline command (`fdattest verify`,
// verifier/verify_command.h) and any service only adapt it.
//
// Verify() runs these steps in this order, one function each (verify.cc);
// each reports under its id in VerifyResult::steps, and the first failure of
// steps 1-6 ends the run as a broken evidence chain:
//   1  evidence    strict parse of the bundle (common/evidence.h), a register
//                  no TPM client can reset; the bundle's identity
//                  (common/evidence_identity.h)
//   2  nonce       the bundle's nonce is the one this verifier expects
//   3a identity    the bundle's AK is the enrolled AK (exact bytes) and an
//                  attestation key (verifier/identity_cache.h); a verifier
//                  with an attester registry names the enrolled AK through
//                  VerifyRequest::enrolled_ak
//   3b ek          the EK certificate chains to a trusted TPM CA and the AK's
//                  qualified name is recomputed under that EK (not_checked
//                  without a TPM CA)
//   4a attestation TPMS_ATTEST/TPMT_SIGNATURE checks (verifier/tpm_attest.h);
//                  the bundle's counts are the signed ones
//   4b counters    the signed counters are not behind this attester's last
//                  (first contact: they become its baseline)
//   5  event_log   replay of the served epoch to the certified register
//                  value; this launch's manifest, load observation and
//                  separator records in full (and any alive observations)
//   6a manifest    strict manifest parse, launch id and attested flag
//   6b observation the attestor's load observation against the manifest
//                  (CheckObservationMatchesManifest, common/observation.h),
//                  alive observations against the load one; "not observed"
//                  passes here and fails rule R13
//   7  filter      BPF proof of the launcher properties for the manifest's
//                  declared fds (verifier/proof_cache.h); a failure here is a
//                  policy matter: rule R0
//   8  policy      rules R0-R14 (verifier/policy.h), then the verdict
// Reports: verifier/report.h. Thread-safe: Verify() may run concurrently, the
// caches it is given lock.
#ifndef FDATTEST_VERIFIER_VERIFY_H_
#define FDATTEST_VERIFIER_VERIFY_H_

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "common/bpf_properties.h"
#include "common/manifest.h"
#include "common/status.h"
#include "verifier/identity_cache.h"
#include "verifier/policy.h"
#include "verifier/proof_cache.h"
#include "verifier/tpm_attest.h"

namespace fdattest {

// What the verifier trusts, configured by its operator.
struct TrustAnchors {
  // The enrolled AK: marshalled TPM2B_PUBLIC (fdattestd's ak.pub). Unused
  // when the request brings VerifyRequest::enrolled_ak.
  std::string ak_public;
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
  // instead: called once, in step 2, with the bundle's nonce (so never for a
  // bundle step 1 refuses, whose nonce may not be readable); OK makes it the
  // expected nonce, an error (never issued, expired, already used) refuses it.
  std::function<absl::Status(absl::string_view nonce)> consume_nonce;
  // The counters last seen, signed, from this attester (by AK). Absent: first
  // contact, monotonicity not established.
  std::optional<TpmCounters> previous_counters;
  // Or looked up by the AK's qualified name (hex) once the AK is known to be
  // the enrolled one.
  std::function<std::optional<TpmCounters>(absl::string_view ak_name_hex)> previous_counters_of;
  // A verifier that enrolls attesters (fdverifierd) sets this instead of
  // anchors->ak_public: called once, in step 3a, with the TPM name (hex) of
  // the bundle's AK once it parsed as an attestation key. It returns the
  // enrolled AK's marshalled TPM2B_PUBLIC, which must be the bundle's exact
  // bytes, or an error whose message is the refusal ("not enrolled",
  // "attester revoked", ...): the run ends there as broken evidence.
  std::function<absl::StatusOr<std::string>(absl::string_view ak_name_hex)> enrolled_ak;
  // The time of the verification (unix seconds): the EK certificate must be
  // valid then. Absent: now. An offline re-run of an archived decision gives
  // the decision's time.
  std::optional<int64_t> now;
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
  // The bundle's identity (common/evidence_identity.h), hex: what the EAR
  // calls evidence_sha256. Not a digest of the bundle's bytes.
  std::string evidence_sha256;
  std::string nonce;            // raw
  std::string launch_id;
  std::string manifest_sha256;  // hex
  // Set only when the chain is intact (steps 1-6 passed).
  std::optional<Manifest> manifest;
  std::string ak_name;  // AK qualified name, hex
  std::optional<TpmCounters> counters;
  PropertyList filter_properties;  // null when the filter could not be analysed
  // Which freshness the expected nonce established (rule R11): "launch" (the
  // attestor's load observation is bound to it), "alive" (an alive
  // observation of the launch is), or "" (neither, or no nonce, or a broken
  // chain).
  std::string freshness;
};

VerifyResult Verify(const VerifyRequest& request);

}  // namespace fdattest

#endif  // FDATTEST_VERIFIER_VERIFY_H_
