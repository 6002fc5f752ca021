// VerifierSession against a scripted service (cpp-httplib's TLS server in
// this process): the nonce it takes, the request it sends, and how it reads a
// result — rules that did not pass, secrets, refusals — and refuses answers
// that are malformed or release what was not asked for.
#include "launcher/verifier_session.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/tls_test_util.h"

namespace fdattest {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

class VerifierSessionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    cert_ = testing::MakeSelfSignedCert(dir_, "server", "DNS:localhost");
    https_ = std::make_unique<testing::TestHttpsServer>(cert_);
    https_->server().Post("/v1/challenge", [this](const httplib::Request&, httplib::Response& res) {
      res.set_content(challenge_answer_, "application/json");
    });
    https_->server().Post("/v1/attest", [this](const httplib::Request& req, httplib::Response& res) {
      last_query_ = req.params;
      last_body_ = req.body;
      res.set_content(attest_answer_, "application/json");
    });
    https_->Start();
  }
  VerifierSession Session() {
    auto s = VerifierSession::Open(https_->Url(), cert_.cert_path);
    EXPECT_TRUE(s.ok()) << s.status();
    return *std::move(s);
  }

  testing::ScratchDir dir_;
  testing::TestCert cert_;
  std::unique_ptr<testing::TestHttpsServer> https_;
  std::string challenge_answer_;
  std::string attest_answer_;
  httplib::Params last_query_;
  std::string last_body_;
};

TEST_F(VerifierSessionTest, TakesTheChallengeNonce) {
  challenge_answer_ = R"({"nonce":"00ff10","expires_at":1})";
  auto nonce = Session().Challenge();
  ASSERT_TRUE(nonce.ok()) << nonce.status();
  EXPECT_EQ(*nonce, std::string("\x00\xff\x10", 3));
}

TEST_F(VerifierSessionTest, RefusesChallengeWithoutUsableNonce) {
  for (const char* answer : {R"({"nonce":"xyz"})", R"({"nonce":""})", R"({"nonce":7})", R"([1])",
                             "not json"}) {
    challenge_answer_ = answer;
    EXPECT_FALSE(Session().Challenge().ok()) << answer;
  }
  challenge_answer_ = std::string(R"({"nonce":")") + std::string(130, 'a') + "\"}";
  EXPECT_FALSE(Session().Challenge().ok());
}

TEST_F(VerifierSessionTest, SendsEvidenceAndReadsReleasedSecrets) {
  attest_answer_ = R"({"id":"ab","verdict":"affirming","reason":"","secrets":{"phi-key":"a.b.c.d.e"},
    "report":{"rules":[{"id":"R0","title":"closed world","outcome":"pass","reason":""}]}})";
  auto outcome = Session().Attest("{\"evidence\":1}", "", {"phi-key"});
  ASSERT_TRUE(outcome.ok()) << outcome.status();
  EXPECT_EQ(last_body_, "{\"evidence\":1}");
  EXPECT_EQ(last_query_.find("release")->second, "phi-key");
  EXPECT_EQ(last_query_.count("policy"), 0u);
  EXPECT_EQ(outcome->verdict, "affirming");
  EXPECT_EQ(outcome->secrets.at("phi-key"), "a.b.c.d.e");
  EXPECT_TRUE(outcome->unmet_rules.empty());
}

TEST_F(VerifierSessionTest, ReadsRulesThatDidNotPassAndRefusals) {
  attest_answer_ = R"({"id":"cd","verdict":"contraindicated","reason":"R2 failed",
    "refused":{"phi-key":"verdict is contraindicated"},
    "report":{"rules":[{"id":"R0","title":"closed world","outcome":"pass","reason":""},
                       {"id":"R2","title":"inputs read-only","outcome":"fail","reason":"fd 3 is writable"}]}})";
  auto outcome = Session().Attest("{}", "hipaa", {"phi-key"});
  ASSERT_TRUE(outcome.ok()) << outcome.status();
  EXPECT_EQ(last_query_.find("policy")->second, "hipaa");
  EXPECT_THAT(outcome->unmet_rules, ElementsAre("R2 (fail): inputs read-only: fd 3 is writable"));
  auto lines = outcome->RefusalLines();
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_THAT(lines[0], HasSubstr("contraindicated: R2 failed (attestation cd)"));
  EXPECT_THAT(lines[2], HasSubstr("secret \"phi-key\" refused: verdict is contraindicated"));
}

TEST_F(VerifierSessionTest, RefusesASecretThatWasNotRequested) {
  attest_answer_ = R"({"id":"ab","verdict":"affirming","secrets":{"other":"x"}})";
  auto outcome = Session().Attest("{}", "", {"phi-key"});
  EXPECT_EQ(outcome.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(outcome.status().message(), HasSubstr("not requested"));
}

TEST_F(VerifierSessionTest, RefusesMalformedResults) {
  for (const char* answer : {R"({"verdict":"affirming"})", R"({"id":"a","verdict":1})",
                             R"({"id":"a","verdict":"affirming","secrets":[1]})",
                             R"({"id":"a","verdict":"affirming","secrets":{"k":1}})"}) {
    attest_answer_ = answer;
    EXPECT_FALSE(Session().Attest("{}", "", {"k"}).ok()) << answer;
  }
}

TEST_F(VerifierSessionTest, RefusesNamesTheApiWouldNot) {
  EXPECT_FALSE(Session().Attest("{}", "a&b", {}).ok());
  EXPECT_FALSE(Session().Attest("{}", "", {"x,y"}).ok());
  EXPECT_FALSE(Session().Attest("{}", "", {""}).ok());
  EXPECT_TRUE(IsServiceName("phi-key.v2_1"));
  EXPECT_FALSE(IsServiceName(std::string(65, 'a')));
}

}  // namespace
}  // namespace fdattest
