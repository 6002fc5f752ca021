// fdlaunch enroll's reading and writing of the verifier's answers: the
// request carries the attestor's EK certificate and AK, and the answers are
// read strictly (exact keys, well-formed values, the right state and id).
// The whole command against an attestor and the attester routes:
// tests/verifier/enroll_command_test.cc.
#include "launcher/enroll.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "common/base64.h"
#include "common/json.h"

namespace fdattest {
namespace {

using ::testing::HasSubstr;

constexpr char kId[] = "0123456789abcdef0123456789abcdef";

std::string Answer(Json j) { return j.dump(); }

Json GoodChallenge() {
  return Json{{"id", kId},
              {"state", "pending"},
              {"ak_name", "000b" + std::string(64, 'a')},
              {"credential_blob", Base64Encode("blob")},
              {"encrypted_secret", Base64Encode("secret")}};
}

TEST(EnrollTest, TheRequestCarriesTheEkCertificateAndTheAk) {
  InfoResponse info;
  info.ak_public = "ak";
  info.ek_certificate = "cert";
  absl::StatusOr<std::string> body = EnrollRequestBody(info, true);
  ASSERT_TRUE(body.ok());
  EXPECT_EQ(*body, absl::StrCat(R"({"ak_public":")", Base64Encode("ak"), R"(","ek_certificate":")",
                                Base64Encode("cert"), R"(","replace":true})"));
  info.ek_certificate.clear();
  EXPECT_THAT(EnrollRequestBody(info, false).status().message(), HasSubstr("no EK certificate"));
  EXPECT_EQ(ActivateRequestBody("xy"), absl::StrCat(R"({"secret":")", Base64Encode("xy"), "\"}"));
}

TEST(EnrollTest, ReadsTheChallengeStrictly) {
  absl::StatusOr<EnrollChallenge> c = ParseEnrollResponse(Answer(GoodChallenge()));
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->id, kId);
  EXPECT_EQ(c->ak_name.size(), 34u);
  EXPECT_EQ(c->credential_blob, "blob");
  EXPECT_EQ(c->encrypted_secret, "secret");
  struct Case {
    const char* key;
    Json value;
    const char* why;
  };
  for (const Case& bad : {Case{"id", "ABC", "32 lowercase hex"},
                          Case{"state", "active", "not pending"},
                          Case{"ak_name", "000B", "lowercase hex"},
                          Case{"ak_name", "", "lowercase hex"},
                          Case{"credential_blob", "%%%", "credential_blob"},
                          Case{"encrypted_secret", "", "encrypted_secret"},
                          Case{"extra", 1, "unknown key"},
                          Case{"id", 5, "id"}}) {
    Json j = GoodChallenge();
    j[bad.key] = bad.value;
    absl::StatusOr<EnrollChallenge> refused = ParseEnrollResponse(Answer(j));
    EXPECT_EQ(refused.status().code(), absl::StatusCode::kInvalidArgument) << bad.key;
    EXPECT_THAT(refused.status().message(), HasSubstr(bad.why)) << bad.key;
    EXPECT_THAT(refused.status().message(), HasSubstr("verifier: ")) << bad.key;
  }
  Json missing = GoodChallenge();
  missing.erase("encrypted_secret");
  EXPECT_FALSE(ParseEnrollResponse(Answer(missing)).ok());
  EXPECT_FALSE(ParseEnrollResponse("not json").ok());
}

TEST(EnrollTest, ChecksTheActivationAnswer) {
  EXPECT_TRUE(CheckActivateResponse(Answer({{"id", kId}, {"state", "active"}}), kId).ok());
  EXPECT_THAT(CheckActivateResponse(Answer({{"id", kId}, {"state", "pending"}}), kId).message(),
              HasSubstr("not active"));
  EXPECT_THAT(
      CheckActivateResponse(Answer({{"id", std::string(32, 'f')}, {"state", "active"}}), kId)
          .message(),
      HasSubstr("another attester"));
  EXPECT_FALSE(
      CheckActivateResponse(Answer({{"id", kId}, {"state", "active"}, {"x", 1}}), kId).ok());
}

}  // namespace
}  // namespace fdattest
