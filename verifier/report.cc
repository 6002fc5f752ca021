#include "verifier/report.h"

#include "absl/strings/str_cat.h"

namespace fdattest {

Json ReportJson(const VerifyResult& r) {
  Json steps = Json::array();
  for (const StepReport& s : r.steps) {
    steps.push_back({{"step", s.id}, {"outcome", StepOutcomeName(s.outcome)}, {"detail", s.detail}});
  }
  Json rules = Json::array();
  for (const RuleResult& rule : r.rules) {
    rules.push_back({{"id", rule.id},
                     {"title", rule.title},
                     {"outcome", RuleOutcomeName(rule.outcome)},
                     {"reason", rule.reason},
                     {"fatal", rule.fatal},
                     {"hipaa", rule.citation.hipaa},
                     {"gdpr", rule.citation.gdpr}});
  }
  Json j = {{"verdict", VerdictName(r.verdict)},
            {"exit_code", VerdictExitCode(r.verdict)},
            {"failure_class", FailureClassName(r.failure)},
            {"reason", r.reason},
            {"steps", steps},
            {"rules", rules},
            {"trust_vector", r.trust_vector}};
  // A bundle that did not parse has no identity.
  if (!r.evidence_sha256.empty()) j["evidence_sha256"] = r.evidence_sha256;
  if (!r.launch_id.empty()) j["launch_id"] = r.launch_id;
  if (!r.manifest_sha256.empty()) j["manifest_sha256"] = r.manifest_sha256;
  if (!r.ak_name.empty()) j["ak_qualified_name"] = r.ak_name;
  if (r.manifest) j["exe_sha256"] = r.manifest->exe_sha256;
  if (!r.freshness.empty()) j["freshness"] = r.freshness;
  return j;
}

std::string ReportText(const VerifyResult& r) {
  std::string out = absl::StrCat("verdict: ", VerdictName(r.verdict));
  if (r.failure != FailureClass::kNone) absl::StrAppend(&out, " (", FailureClassName(r.failure), ")");
  absl::StrAppend(&out, "\nreason: ", r.reason, "\n");
  if (!r.launch_id.empty()) absl::StrAppend(&out, "launch: ", r.launch_id, "\n");
  if (!r.manifest_sha256.empty()) absl::StrAppend(&out, "manifest sha256: ", r.manifest_sha256, "\n");
  if (!r.freshness.empty()) absl::StrAppend(&out, "freshness: ", r.freshness, "\n");
  absl::StrAppend(&out, "evidence sha256: ",
                  r.evidence_sha256.empty() ? "none (the bundle did not parse)" : r.evidence_sha256,
                  "\n\nevidence chain:\n");
  for (const StepReport& s : r.steps) {
    absl::StrAppend(&out, "  ", StepOutcomeName(s.outcome), "\t", s.id, ": ", s.detail, "\n");
  }
  if (!r.rules.empty()) absl::StrAppend(&out, "\ndata-flow rules:\n");
  for (const RuleResult& rule : r.rules) {
    absl::StrAppend(&out, "  ", RuleOutcomeName(rule.outcome), rule.fatal ? " (fatal)" : "", "\t",
                    rule.id, " ", rule.title, ": ", rule.reason, "\n\t\t[");
    if (!rule.citation.hipaa.empty()) absl::StrAppend(&out, "HIPAA ", rule.citation.hipaa);
    if (!rule.citation.hipaa.empty() && !rule.citation.gdpr.empty()) absl::StrAppend(&out, "; ");
    if (!rule.citation.gdpr.empty()) absl::StrAppend(&out, "GDPR ", rule.citation.gdpr);
    absl::StrAppend(&out, "]\n");
  }
  return out;
}

EarInput MakeEarInput(const VerifyResult& r, const Policy& policy, int64_t now,
                      int64_t lifetime_seconds, absl::string_view verifier_build) {
  EarInput in;
  switch (r.verdict) {
    case Verdict::kAffirming: in.status = EarStatus::kAffirming; break;
    case Verdict::kWarning: in.status = EarStatus::kWarning; break;
    case Verdict::kContraindicated:
    case Verdict::kBrokenEvidence: in.status = EarStatus::kContraindicated; break;
  }
  in.trust_vector = r.trust_vector;
  in.policy_ids = {policy.id};
  in.nonce = r.nonce;
  in.issued_at = now;
  in.expires_at = lifetime_seconds > 0 ? now + lifetime_seconds : 0;
  in.verifier_build = std::string(verifier_build);
  Json rules = Json::object();
  for (const RuleResult& rule : r.rules) rules[rule.id] = RuleOutcomeName(rule.outcome);
  in.private_claims = {{"verdict", VerdictName(r.verdict)},
                       {"failure_class", FailureClassName(r.failure)},
                       {"reason", r.reason},
                       {"rules", rules},
                       {"policy_sha256", policy.text_sha256}};
  if (!r.evidence_sha256.empty()) in.private_claims["evidence_sha256"] = r.evidence_sha256;
  if (!r.manifest_sha256.empty() && r.failure != FailureClass::kBrokenEvidenceChain) {
    in.private_claims["manifest_sha256"] = r.manifest_sha256;
    in.private_claims["launch_id"] = r.launch_id;
  }
  if (!r.freshness.empty()) in.private_claims["freshness"] = r.freshness;
  return in;
}

}  // namespace fdattest
