// The rule engine as a whole: the example policies on their launches (every
// rule passes, in order, citing its clauses), fatality of not-evaluable
// results, evaluation without a manifest, and the catalogue as docs/policy.md
// lists it.
#include "verifier/rules.h"

#include <filesystem>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "common/file_io.h"
#include "gtest/gtest.h"
#include "tests/support/policy_test_util.h"

namespace fdattest {
namespace {

using testing::ExampleJson;
using testing::ExpectedCitation;
using testing::ExpectRule;
using testing::Find;
using testing::GdprRules;
using testing::HipaaRules;
using testing::LoadExample;
using testing::MustParse;
using testing::StorageOf;

// --- the examples on their launches -------------------------------------------

TEST_F(HipaaRules, ExamplePassesEveryRuleOnThePhiChecksumLaunch) {
  std::vector<RuleResult> results = Run();
  ASSERT_EQ(results.size(), 15u);
  for (size_t i = 0; i < results.size(); ++i) {
    EXPECT_EQ(results[i].id, absl::StrCat("R", i));
    EXPECT_EQ(results[i].outcome, RuleOutcome::kPass) << results[i].id << ": " << results[i].reason;
    EXPECT_FALSE(results[i].fatal);
    const Citation want = ExpectedCitation(results[i].id);
    EXPECT_EQ(results[i].citation.hipaa, want.hipaa);
    EXPECT_EQ(results[i].citation.gdpr, want.gdpr);
    EXPECT_FALSE(results[i].title.empty());
  }
}

// examples/demo.sh runs everything in a temporary directory on a read-write
// ext4 mount: the example policy refuses that, naming the fds and fields.
TEST_F(HipaaRules, DemoScratchDirectoryLaunchFailsOnMountsNotOnIdentity) {
  for (FdFingerprint& fp : manifest_.fds) {
    fp.mount = MountFingerprint{27, "ext4", false};
    fp.storage = StorageOf("ext4");
  }
  std::vector<RuleResult> results = Run();
  ExpectRule(results, "R2", RuleOutcome::kFail,
             {"fd 0 (phi-input)", "read-write", "read_only_mount"});
  ExpectRule(results, "R3", RuleOutcome::kFail,
             {"fd 1 (phi-output)", "ext4: persisted, not encrypted"});
  // The audit log on plain disk is durable; only the output fails R7.
  ExpectRule(results, "R7", RuleOutcome::kFail, {"fd 1 (phi-output)"});
  EXPECT_EQ(Find(results, "R7").reason.find("fd 2 (audit-log): writable"), std::string::npos);
  ExpectRule(results, "R1", RuleOutcome::kPass);
  ExpectRule(results, "R10", RuleOutcome::kPass);
}

TEST_F(GdprRules, ExamplePassesWithTheRegistryAndLeavesInetPeerAuthOpen) {
  std::vector<RuleResult> results = Run();
  ASSERT_EQ(results.size(), 15u);
  for (const RuleResult& r : results) {
    if (r.id == "R9") continue;
    EXPECT_EQ(r.outcome, RuleOutcome::kPass) << r.id << ": " << r.reason;
  }
  ExpectRule(results, "R9", RuleOutcome::kNotEvaluable,
             {"fd 1 (results-out)", "not fingerprinted"});
  EXPECT_FALSE(Find(results, "R9").fatal);
  ExpectRule(results, "R5", RuleOutcome::kPass, {"fd 1 (results-out)", "DE"});
}

// --- not evaluable, fatality, missing facts -----------------------------------------

TEST_F(HipaaRules, NotEvaluableFailMakesEveryNotEvaluableFatal) {
  facts_.nonce = PolicyFacts::Nonce::kNotChecked;
  Json j = ExampleJson("hipaa-phi-etl.json");
  j["not_evaluable"] = "fail";
  j["not_evaluable_overrides"] = Json::object();
  policy_ = MustParse(j);
  std::vector<RuleResult> results = Run();
  EXPECT_EQ(Find(results, "R11").outcome, RuleOutcome::kNotEvaluable);
  EXPECT_TRUE(Find(results, "R11").fatal);
  // A per-rule override wins over the default.
  j["not_evaluable_overrides"]["R11"] = "warn";
  policy_ = MustParse(j);
  EXPECT_FALSE(Find(Run(), "R11").fatal);
}

TEST(EvaluatePolicy, WithoutAManifestEveryManifestRuleIsNotEvaluable) {
  Policy policy = LoadExample("hipaa-phi-etl.json");
  PolicyFacts facts;
  std::vector<RuleResult> results = EvaluatePolicy(policy, facts);
  ASSERT_EQ(results.size(), 15u);
  for (const RuleResult& r : results) {
    if (r.id == "R14") continue;  // judged on the policy alone
    EXPECT_NE(r.outcome, RuleOutcome::kPass) << r.id << ": " << r.reason;
  }
  ExpectRule(results, "R0", RuleOutcome::kFail, {"filter not proven"});
  ExpectRule(results, "R1", RuleOutcome::kNotEvaluable, {"no verified manifest"});
  ExpectRule(results, "R14", RuleOutcome::kPass);
  EXPECT_TRUE(Find(results, "R10").fatal);  // the example's override
}

// docs/policy.md "Rules" is where a reader finds each rule's clauses: its
// table must list every rule of the catalogue, in order, with the title and
// the HIPAA ("—" for none) and GDPR clauses the results cite.
TEST(EvaluatePolicy, ResultsCiteTheClausesDocsPolicyMdLists) {
  const std::string path =
      (std::filesystem::path(__FILE__).parent_path().parent_path() / "docs" / "policy.md").string();
  absl::StatusOr<std::string> doc = ReadFileLimited(path, 1 << 20);
  ASSERT_TRUE(doc.ok()) << doc.status();
  const size_t start = doc->find("\n## Rules\n");
  ASSERT_NE(start, std::string::npos) << path << " has no \"Rules\" section";
  const absl::string_view section =
      absl::string_view(*doc).substr(start, doc->find("\n## ", start + 1) - start);
  std::vector<std::vector<std::string>> rows;  // id, title, HIPAA, GDPR
  for (absl::string_view line : absl::StrSplit(section, '\n')) {
    if (!absl::ConsumePrefix(&line, "| R") || !absl::ConsumeSuffix(&line, " |")) continue;
    std::vector<std::string> cells = absl::StrSplit(line, " | ");
    ASSERT_EQ(cells.size(), 4u) << line;
    cells[0] = absl::StrCat("R", cells[0]);
    rows.push_back(cells);
  }
  const std::vector<RuleResult> results = EvaluatePolicy(LoadExample("hipaa-phi-etl.json"), {});
  ASSERT_EQ(rows.size(), results.size());
  for (size_t i = 0; i < rows.size(); ++i) {
    EXPECT_EQ(rows[i][0], results[i].id);
    EXPECT_EQ(rows[i][1], results[i].title) << results[i].id;
    EXPECT_EQ(rows[i][2], results[i].citation.hipaa.empty() ? "—" : results[i].citation.hipaa)
        << results[i].id;
    EXPECT_EQ(rows[i][3], results[i].citation.gdpr) << results[i].id;
  }
}

TEST(RuleOutcomeName, NamesEveryOutcome) {
  EXPECT_EQ(RuleOutcomeName(RuleOutcome::kPass), "pass");
  EXPECT_EQ(RuleOutcomeName(RuleOutcome::kFail), "fail");
  EXPECT_EQ(RuleOutcomeName(RuleOutcome::kNotEvaluable), "not_evaluable");
}

}  // namespace
}  // namespace fdattest
