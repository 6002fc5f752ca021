// The trustworthiness vector the rules' results give (AR4SI values).
#include "verifier/trust_vector.h"

#include <map>
#include <string>

#include "gtest/gtest.h"
#include "tests/support/policy_test_util.h"

namespace fdattest {
namespace {

using testing::ExampleJson;
using testing::GdprRules;
using testing::HipaaRules;
using testing::kOther;
using testing::MustParse;
using testing::StorageOf;

TEST_F(HipaaRules, TrustVectorIsAffirmingWhenEveryRulePasses) {
  std::map<std::string, int> tv = TrustVectorFromRules(Run());
  EXPECT_EQ(tv, (std::map<std::string, int>{{"instance-identity", 2},
                                            {"configuration", 2},
                                            {"executables", 2},
                                            {"file-system", 2},
                                            {"sourced-data", 2}}));
}

TEST_F(HipaaRules, TrustVectorContraindicatesFailuresAndWarnsOnNotEvaluable) {
  manifest_.fds[1].storage = StorageOf("ext4");  // not encrypted: R3 and R7 fail
  facts_.launcher_sha256 = kOther;           // the attestor saw another launcher: R13 fails
  facts_.nonce = PolicyFacts::Nonce::kNotChecked;
  std::map<std::string, int> tv = TrustVectorFromRules(Run());
  EXPECT_EQ(tv["storage-opaque"], 96);
  EXPECT_EQ(tv["file-system"], 96);
  EXPECT_EQ(tv["executables"], 96);
  EXPECT_EQ(tv["configuration"], 2);
  EXPECT_EQ(tv["instance-identity"], 2);
}

TEST_F(GdprRules, TrustVectorWarnsOnANonFatalNotEvaluableRegion) {
  Json j = ExampleJson("gdpr-eu-processor.json");
  j["not_evaluable_overrides"].erase("R5");
  policy_ = MustParse(j);
  facts_.registry = nullptr;
  std::map<std::string, int> tv = TrustVectorFromRules(Run());
  EXPECT_EQ(tv["sourced-data"], 32);
  j["not_evaluable_overrides"]["R5"] = "fail";
  policy_ = MustParse(j);
  EXPECT_EQ(TrustVectorFromRules(Run())["sourced-data"], 96);
}

}  // namespace
}  // namespace fdattest
