// The rules R0..R14 that judge one verified launch against a policy
// (docs/policy.md "Rules"): each yields pass, fail or not evaluable with a
// one-line reason naming the fd or field, and cites the HIPAA and GDPR
// clauses it implements. The catalogue (id, title, clauses, check) is one
// constant table in rules.cc; EvaluatePolicy is pure; thread-safe.
#ifndef FDATTEST_VERIFIER_RULES_H_
#define FDATTEST_VERIFIER_RULES_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "common/bpf_properties.h"
#include "common/manifest.h"
#include "verifier/endpoint_registry.h"
#include "verifier/policy_model.h"

namespace fdattest {

// R14: 45 CFR 164.316(b)(2)(i) retains documentation six years.
inline constexpr int64_t kMinRetentionDays = 2190;

// Everything the rules may look at besides the policy. Filled by the pipeline
// after steps 1–7 passed (so the evidence chain is intact when rules run).
struct PolicyFacts {
  const Manifest* manifest = nullptr;  // verified: bound to the TPM-certified register
  bool filter_proven = false;  // step 7 passed: every launcher property holds for the declared fds
  PropertyList filter_properties;  // ids from common/bpf_properties.cc; null: none
  std::string filter_error;        // why not proven, when !filter_proven
  std::string filter_sha256;       // hex
  enum class Nonce { kFresh, kNotChecked } nonce = Nonce::kNotChecked;  // kNotChecked: offline
  bool clock_safe = false;
  bool counters_checked = false;  // monotonic vs. the previous state (false: no previous state)
  uint32_t reset_count = 0, restart_count = 0;
  std::string ak_name_hex;                     // attester identity (AK qualified name)
  const EndpointRegistry* registry = nullptr;  // nullptr: no verified registry supplied
  // The attestor's load observation of the launch (verify.h step 6b).
  // `observed`: it recorded what the kernel showed, and that matched the
  // manifest; otherwise `not_observed` says why (empty: no observation at
  // all). `launcher_sha256`: the executable of the peer that had the launch
  // measured, hashed by the attestor itself (the record's peer_exe_sha256),
  // hex; R13 takes the launcher from here, never from the manifest.
  bool observed = false;
  std::string not_observed;
  std::string launcher_sha256;
  // R11: the load observation is bound to the expected nonce (launched after
  // it); an alive observation of this launch, in the certified log, is bound
  // to it (observed alive and unchanged after it).
  bool launch_fresh = false;
  bool alive_fresh = false;
};

enum class RuleOutcome { kPass, kFail, kNotEvaluable };
absl::string_view RuleOutcomeName(RuleOutcome outcome);  // "pass", "fail", "not_evaluable"

// The HIPAA (45 CFR) and GDPR clauses a rule implements, as docs/policy.md
// "Rules" lists them; hipaa is "" for R5, which has no HIPAA clause.
struct Citation {
  std::string hipaa;
  std::string gdpr;
};

struct RuleResult {
  std::string id;  // "R0".."R14"
  std::string title;
  RuleOutcome outcome = RuleOutcome::kNotEvaluable;
  std::string reason;  // one line naming the fd/field
  Citation citation;
  bool fatal = false;  // a fail always; a not-evaluable iff the policy says so
};

// Evaluates R0..R14 in order (always 15 results). A rule passes only on facts
// it checked; what the evidence cannot show is kNotEvaluable with the reason.
std::vector<RuleResult> EvaluatePolicy(const Policy& policy, const PolicyFacts& facts);

// Whether `id` names a rule of the catalogue ("R0".."R14").
bool IsRuleId(absl::string_view id);

}  // namespace fdattest

#endif  // FDATTEST_VERIFIER_RULES_H_
