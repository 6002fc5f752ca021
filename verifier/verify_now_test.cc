// VerifyRequest::now: the EK certificate is checked at the verification's
// time, not the machine's clock (an offline re-run of an archived decision
// gives the decision's time), on the genuine seed evidence and the TPM CA
// that signed its EK certificate (tests/support/seed_bundles.h).
#include <fstream>
#include <sstream>

#include "common/evidence.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/seed_bundles.h"
#include "verifier/identity_cache.h"
#include "verifier/policy.h"
#include "verifier/verify.h"

namespace fdattest {
namespace {

using ::testing::HasSubstr;

// The seed EK certificate is valid from 2026-12-08 01:39:22 UTC; its CA
// until 2036-12-05 01:39:22 UTC.
constexpr int64_t kInside = testing::kSeedTime;    // 2026-12-11
constexpr int64_t kBeforeNotBefore = 1796690362;  // 2026-12-08, before 01:39:22
constexpr int64_t kAfterCaExpiry = 2112300000;    // 2036-12-07, after the CA expired

class VerifyNowTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::ifstream in(std::string(FDATTEST_SOURCE_DIR) +
                         "/tests/fuzz/corpus/evidence/genuine_nv_first.json",
                     std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    evidence_ = ss.str();
    absl::StatusOr<Evidence> parsed = Evidence::Parse(evidence_);
    ASSERT_TRUE(parsed.ok()) << parsed.status();
    anchors_.ak_public = parsed->ak_public;
    anchors_.tpm_ca_pem = std::string(::fdattest::testing::kSeedTpmCaPem);
    absl::StatusOr<Policy> policy = Policy::Parse(::fdattest::testing::kSeedPolicy);
    ASSERT_TRUE(policy.ok()) << policy.status();
    policy_.emplace(*std::move(policy));
  }

  StepReport EkStep(int64_t now, IdentityCache* cache) {
    VerifyRequest request;
    request.evidence = evidence_;
    request.anchors = &anchors_;
    request.policy = &*policy_;
    request.now = now;
    request.identity_cache = cache;
    VerifyResult result = Verify(request);
    for (const StepReport& step : result.steps) {
      if (step.id == "ek") return step;
    }
    ADD_FAILURE() << "no ek step: " << result.reason;
    return {};
  }

  std::string evidence_;
  TrustAnchors anchors_;
  std::optional<Policy> policy_;
};

TEST_F(VerifyNowTest, EkCertificateIsCheckedAtTheRequestsTime) {
  for (int64_t now : {kBeforeNotBefore, kAfterCaExpiry}) {
    IdentityCache fresh;  // nothing remembered: the certificate is checked afresh
    StepReport ek = EkStep(now, &fresh);
    EXPECT_EQ(ek.outcome, StepReport::Outcome::kFail) << now << ": " << ek.detail;
    EXPECT_THAT(ek.detail, HasSubstr("certificate")) << now;
  }
  IdentityCache fresh;
  StepReport ek = EkStep(kInside, &fresh);
  EXPECT_EQ(ek.outcome, StepReport::Outcome::kPass) << ek.detail;
}

TEST_F(VerifyNowTest, RememberedBindingIsStillCheckedAtTheRequestsTime) {
  IdentityCache cache;
  EXPECT_EQ(EkStep(kInside, &cache).outcome, StepReport::Outcome::kPass);
  EXPECT_EQ(EkStep(kAfterCaExpiry, &cache).outcome, StepReport::Outcome::kFail);
  EXPECT_EQ(EkStep(kBeforeNotBefore, &cache).outcome, StepReport::Outcome::kFail);
  EXPECT_EQ(EkStep(kInside, &cache).outcome, StepReport::Outcome::kPass);
}

}  // namespace
}  // namespace fdattest
