#include "verifier/rules.h"

#include <iterator>
#include <string>
#include <utility>

#include "verifier/internal/rule_checks.h"

namespace fdattest {
namespace {

using policy_internal::Findings;
using policy_internal::RuleAppendOnlyAudit;
using policy_internal::RuleAtRest;
using policy_internal::RuleCheck;
using policy_internal::RuleClosedWorld;
using policy_internal::RuleEgress;
using policy_internal::RuleEncryptedOutput;
using policy_internal::RuleFreshness;
using policy_internal::RuleIdentity;
using policy_internal::RuleIntegrity;
using policy_internal::RuleLeakChannels;
using policy_internal::RuleMinimisation;
using policy_internal::RulePeerAuth;
using policy_internal::RuleReadOnlyInput;
using policy_internal::RuleRegion;
using policy_internal::RuleRetention;
using policy_internal::RuleVettedInput;

// The rule catalogue, in report order: one row per rule with what a result
// shows (id, title, the HIPAA and GDPR clauses docs/policy.md "Rules" lists)
// and how it is judged. A check that reads the manifest is not evaluable
// without one.
struct Rule {
  const char* id;
  const char* title;
  const char* hipaa;  // "" for R5: no HIPAA clause
  const char* gdpr;
  RuleCheck check;
  bool needs_manifest;
};

constexpr Rule kRules[] = {
    {.id = "R0",
     .title = "closed world",
     .hipaa = "45 CFR 164.312(a)(1)",
     .gdpr = "Art. 25(1); Art. 32(1)(b)",
     .check = RuleClosedWorld,
     .needs_manifest = false},
    {.id = "R1",
     .title = "PHI input from vetted source",
     .hipaa = "45 CFR 164.312(c)(1), (c)(2), (d)",
     .gdpr = "Art. 5(1)(d), (f)",
     .check = RuleVettedInput,
     .needs_manifest = true},
    {.id = "R2",
     .title = "read-only input",
     .hipaa = "45 CFR 164.312(c)(1)",
     .gdpr = "Art. 5(1)(f)",
     .check = RuleReadOnlyInput,
     .needs_manifest = true},
    {.id = "R3",
     .title = "output only encrypted",
     .hipaa = "45 CFR 164.312(e)(1), (e)(2)(ii), (a)(2)(iv)",
     .gdpr = "Art. 32(1)(a)",
     .check = RuleEncryptedOutput,
     .needs_manifest = true},
    {.id = "R4",
     .title = "egress allow-list",
     .hipaa = "45 CFR 164.312(e)(1)",
     .gdpr = "Art. 5(1)(b); Art. 32",
     .check = RuleEgress,
     .needs_manifest = true},
    {.id = "R5",
     .title = "transfer region",
     .hipaa = "",
     .gdpr = "Art. 44–46; Art. 49; Art. 30(1)(e)",
     .check = RuleRegion,
     .needs_manifest = true},
    {.id = "R6",
     .title = "append-only audit fd",
     .hipaa = "45 CFR 164.312(b), (c)(1)",
     .gdpr = "Art. 5(2); Art. 30",
     .check = RuleAppendOnlyAudit,
     .needs_manifest = true},
    {.id = "R7",
     .title = "no PHI at rest outside approved stores",
     .hipaa = "45 CFR 164.312(a)(2)(iv)",
     .gdpr = "Art. 5(1)(e); Art. 32(1)(a)",
     .check = RuleAtRest,
     .needs_manifest = true},
    {.id = "R8",
     .title = "minimisation",
     .hipaa = "45 CFR 164.502(b)",
     .gdpr = "Art. 5(1)(b), (c); Art. 25(2)",
     .check = RuleMinimisation,
     .needs_manifest = true},
    {.id = "R9",
     .title = "peer authentication",
     .hipaa = "45 CFR 164.312(d)",
     .gdpr = "Art. 32(1)(b)",
     .check = RulePeerAuth,
     .needs_manifest = true},
    {.id = "R10",
     .title = "workload identity",
     .hipaa = "45 CFR 164.312(a)(2)(i)",
     .gdpr = "Art. 5(2)",
     .check = RuleIdentity,
     .needs_manifest = true},
    {.id = "R11",
     .title = "freshness and continuity",
     .hipaa = "45 CFR 164.312(c)(1)",
     .gdpr = "Art. 32(1)(d)",
     .check = RuleFreshness,
     .needs_manifest = false},
    {.id = "R12",
     .title = "no leak channels",
     .hipaa = "45 CFR 164.312(a)(1)",
     .gdpr = "Art. 32(1)(b)",
     .check = RuleLeakChannels,
     .needs_manifest = true},
    {.id = "R13",
     .title = "executable and configuration integrity",
     .hipaa = "45 CFR 164.312(c)(1)",
     .gdpr = "Art. 25(1)",
     .check = RuleIntegrity,
     .needs_manifest = true},
    {.id = "R14",
     .title = "retention and no personal data in the log",
     .hipaa = "45 CFR 164.316(b)(2)(i)",
     .gdpr = "Art. 5(1)(e); Art. 17; EDPB 02/2025",
     .check = RuleRetention,
     .needs_manifest = false},
};

}  // namespace

absl::string_view RuleOutcomeName(RuleOutcome outcome) {
  switch (outcome) {
    case RuleOutcome::kPass:
      return "pass";
    case RuleOutcome::kFail:
      return "fail";
    case RuleOutcome::kNotEvaluable:
      return "not_evaluable";
  }
  return "?";
}

bool IsRuleId(absl::string_view id) {
  for (const Rule& r : kRules) {
    if (id == r.id) return true;
  }
  return false;
}

std::vector<RuleResult> EvaluatePolicy(const Policy& policy, const PolicyFacts& facts) {
  std::vector<RuleResult> out;
  out.reserve(std::size(kRules));
  for (const Rule& rule : kRules) {
    RuleResult r{.id = rule.id, .title = rule.title, .citation = {rule.hipaa, rule.gdpr}};
    if (rule.needs_manifest && facts.manifest == nullptr) {
      r.outcome = RuleOutcome::kNotEvaluable;
      r.reason = "no verified manifest";
    } else {
      std::string pass;
      Findings f = rule.check(policy, facts, pass);
      r.outcome = f.outcome();
      r.reason = f.Reason(pass);
    }
    r.fatal = r.outcome == RuleOutcome::kFail ||
              (r.outcome == RuleOutcome::kNotEvaluable && policy.NotEvaluableIsFatal(rule.id));
    out.push_back(std::move(r));
  }
  return out;
}

}  // namespace fdattest
