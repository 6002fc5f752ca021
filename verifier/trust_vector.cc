#include "verifier/trust_vector.h"

namespace fdattest {

std::map<std::string, int> TrustVectorFromRules(const std::vector<RuleResult>& results) {
  struct Claim {
    const char* name;
    std::vector<const char*> rules;
    int warning;  // the claim's value when a rule is not evaluable (non-fatal)
  };
  // Values from draft-ietf-rats-ear AR4SI (veraison/ear trustclaim.go).
  static const Claim kClaims[] = {
      {"instance-identity", {"R10"}, 0},           // no warning value: make no claim
      {"configuration", {"R0", "R8", "R12"}, 32},  // unsafe
      {"executables", {"R13"}, 33},                // unrecognized runtime
      {"file-system", {"R1", "R2", "R7"}, 32},     // unrecognized
      {"sourced-data", {"R1", "R5"}, 32},          // untrusted sources
  };
  std::map<std::string, int> vector;
  for (const Claim& c : kClaims) {
    int value = 2;
    bool seen = false;
    for (const char* id : c.rules) {
      for (const RuleResult& r : results) {
        if (r.id != id) continue;
        seen = true;
        if (r.outcome == RuleOutcome::kFail ||
            (r.outcome == RuleOutcome::kNotEvaluable && r.fatal)) {
          value = 96;
        } else if (r.outcome == RuleOutcome::kNotEvaluable && value != 96) {
          value = c.warning;
        }
      }
    }
    // A claim none of whose rules ran is no claim (AR4SI 0), never "affirming".
    if (!seen) value = 0;
    if (value != 0) vector[c.name] = value;
  }
  // storage-opaque: an output on an encrypted volume says nothing about
  // where the keys live (AR4SI 2 means hardware-held keys): only the
  // negative is claimed. runtime-opaque: a process sandbox makes no claim
  // about memory encryption; AR4SI 0 ("no claim") rather than 32, which
  // would cap every result at "warning" for want of a TEE.
  for (const RuleResult& r : results) {
    if ((r.id == "R3" || r.id == "R7") && r.outcome == RuleOutcome::kFail) {
      vector["storage-opaque"] = 96;
    }
  }
  return vector;
}

}  // namespace fdattest
