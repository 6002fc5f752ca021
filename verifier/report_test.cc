// Reports and the EAR input of a verification result: the build the EAR
// names (version and git commit, fixed at build time), and the evidence
// identity carried only when the bundle parsed.
#include "verifier/report.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <string>

#include "common/build_info.h"
#include "verifier/verify.h"

namespace fdattest {
namespace {

using ::testing::HasSubstr;
using ::testing::MatchesRegex;
using ::testing::Not;

Policy SamplePolicy() {
  Policy p;
  p.id = "fdattest/policy/test";
  p.text_sha256 = std::string(64, 'f');
  return p;
}

// What Verify() gives for bytes that do not parse.
VerifyResult UnparsedResult() {
  TrustAnchors anchors;
  Policy policy = SamplePolicy();
  VerifyRequest request;
  request.evidence = "{not json";
  request.anchors = &anchors;
  request.policy = &policy;
  return Verify(request);
}

bool IsGitCheckout(const std::string& dir) {
  struct stat st;
  return stat((dir + "/.git").c_str(), &st) == 0;
}

TEST(BuildInfoTest, NamesTheProjectVersionAndTheGitCommit) {
  EXPECT_EQ(BuildVersion(), FDATTEST_PROJECT_VERSION);
  if (IsGitCheckout(FDATTEST_SOURCE_DIR)) {
    EXPECT_THAT(std::string(BuildCommit()), MatchesRegex("[0-9a-f]{40}(-dirty)?"));
  } else {
    EXPECT_EQ(BuildCommit(), "unknown");
  }
  EXPECT_EQ(BuildId(),
            std::string("fdattest ") + FDATTEST_PROJECT_VERSION + " (git " +
                std::string(BuildCommit()) + ")");
}

TEST(MakeEarInputTest, NamesTheBuildItIsGiven) {
  VerifyResult r;
  r.verdict = Verdict::kAffirming;
  r.failure = FailureClass::kNone;
  r.evidence_sha256 = std::string(64, 'e');
  const EarInput in = MakeEarInput(r, SamplePolicy(), 1767225600, 300, BuildId());
  EXPECT_EQ(in.verifier_build, BuildId());
  EXPECT_THAT(in.verifier_build, HasSubstr(FDATTEST_PROJECT_VERSION));
  EXPECT_EQ(in.private_claims["evidence_sha256"], r.evidence_sha256);
  EXPECT_EQ(in.expires_at, 1767225900);
  EXPECT_EQ(in.policy_ids, std::vector<std::string>{"fdattest/policy/test"});
}

TEST(MakeEarInputTest, ABundleThatDidNotParseHasNoEvidenceIdentity) {
  const VerifyResult r = UnparsedResult();
  ASSERT_EQ(r.verdict, Verdict::kBrokenEvidence);
  ASSERT_FALSE(r.steps.empty());
  EXPECT_EQ(r.steps.back().id, "evidence");
  EXPECT_EQ(r.evidence_sha256, "");
  const EarInput in = MakeEarInput(r, SamplePolicy(), 1767225600, 0, "fdattest test");
  EXPECT_EQ(in.status, EarStatus::kContraindicated);
  EXPECT_FALSE(in.private_claims.contains("evidence_sha256")) << in.private_claims.dump();
  EXPECT_FALSE(ReportJson(r).contains("evidence_sha256"));
  EXPECT_THAT(ReportText(r), HasSubstr("evidence sha256: none (the bundle did not parse)"));
}

TEST(ReportTest, JsonAndTextCarryTheVerdictStepsAndIdentity) {
  VerifyResult r;
  r.verdict = Verdict::kWarning;
  r.failure = FailureClass::kNone;
  r.reason = "nonce: no expected nonce";
  r.evidence_sha256 = std::string(64, 'e');
  r.launch_id = std::string(32, 'l');
  r.steps = {{"evidence", StepReport::Outcome::kPass, "bundle"},
             {"nonce", StepReport::Outcome::kNotChecked, "no expected nonce"}};
  const Json j = ReportJson(r);
  EXPECT_EQ(j["verdict"], "warning");
  EXPECT_EQ(j["exit_code"], 1);
  EXPECT_EQ(j["evidence_sha256"], r.evidence_sha256);
  EXPECT_EQ(j["launch_id"], r.launch_id);
  ASSERT_EQ(j["steps"].size(), 2u);
  EXPECT_EQ(j["steps"][1]["outcome"], "not_checked");
  const std::string text = ReportText(r);
  EXPECT_THAT(text, HasSubstr("verdict: warning\n"));
  EXPECT_THAT(text, HasSubstr("evidence sha256: " + r.evidence_sha256));
  EXPECT_THAT(text, HasSubstr("  not_checked\tnonce: no expected nonce\n"));
}

TEST(ReportTest, FreshnessIsCarriedWhenEstablishedAndOmittedOtherwise) {
  VerifyResult r;
  r.verdict = Verdict::kAffirming;
  r.failure = FailureClass::kNone;
  for (const char* kind : {"launch", "alive"}) {
    r.freshness = kind;
    EXPECT_EQ(ReportJson(r)["freshness"], kind);
    EXPECT_THAT(ReportText(r), HasSubstr(std::string("freshness: ") + kind + "\n"));
    EXPECT_EQ(MakeEarInput(r, SamplePolicy(), 1767225600, 0, "fdattest test")
                  .private_claims["freshness"],
              kind);
  }
  r.freshness.clear();
  EXPECT_FALSE(ReportJson(r).contains("freshness"));
  EXPECT_THAT(ReportText(r), Not(HasSubstr("freshness")));
  EXPECT_FALSE(MakeEarInput(r, SamplePolicy(), 1767225600, 0, "fdattest test")
                   .private_claims.contains("freshness"));
  // Nothing is fresh about a bundle that did not parse.
  EXPECT_EQ(UnparsedResult().freshness, "");
}

}  // namespace
}  // namespace fdattest
