#include "verifier/service/request_parsers.h"

#include <map>
#include <optional>
#include <string>

#include "common/json.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace fdattest {
namespace {

using ::testing::HasSubstr;

TEST(RequestParsersTest, ChallengeBodyIsEmptyOrALifetimeInRange) {
  EXPECT_FALSE(ParseChallengeBody("", 3600)->lifetime);
  EXPECT_FALSE(ParseChallengeBody("{}", 3600)->lifetime);
  EXPECT_EQ(*ParseChallengeBody(R"({"lifetime": 60})", 3600)->lifetime, 60);
  EXPECT_EQ(*ParseChallengeBody(R"({"lifetime": 3600})", 3600)->lifetime, 3600);
  for (const char* bad : {R"({"lifetime": 0})", R"({"lifetime": 3601})", R"({"lifetime": -1})",
                          R"({"lifetime": "60"})", R"({"lifetime": 1.5})", R"({"lifetim": 5})",
                          R"([])", "null", "{", R"({"lifetime": 1, "lifetime": 2})"}) {
    absl::StatusOr<ChallengeBody> r = ParseChallengeBody(bad, 3600);
    EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument) << bad;
  }
}

TEST(RequestParsersTest, SecretBodyNeedsBase64ValueAndPolicyId) {
  absl::StatusOr<SecretBody> s = ParseSecretBody(R"({"value": "aGVsbG8=", "policy": "p1"})");
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->value, "hello");
  EXPECT_EQ(s->policy, "p1");
  EXPECT_THAT(ParseSecretBody(R"({"value": "aGVsbG8", "policy": "p1"})").status().message(),
              HasSubstr("base64"));
  EXPECT_FALSE(ParseSecretBody(R"({"value": "", "policy": "p1"})").ok());
  EXPECT_FALSE(ParseSecretBody(R"({"value": "aGVsbG8=", "policy": "../p"})").ok());
  EXPECT_FALSE(ParseSecretBody(R"({"value": "aGVsbG8="})").ok());
  EXPECT_FALSE(ParseSecretBody(R"({"value": "aGVsbG8=", "policy": "p", "x": 1})").ok());
  const std::string big(kMaxSecretBytes + 3, 'A');  // decodes to more than the limit
  EXPECT_FALSE(ParseSecretBody(R"({"value": ")" + big + R"(", "policy": "p"})").ok());
}

TEST(RequestParsersTest, ReleaseListIsDistinctValidNames) {
  EXPECT_THAT(*ParseReleaseList("a"), ::testing::ElementsAre("a"));
  EXPECT_THAT(*ParseReleaseList("phi-key,audit.key"), ::testing::ElementsAre("phi-key", "audit.key"));
  for (const char* bad : {"", ",", "a,", "a,a", "a b", "../x", "-a"}) {
    EXPECT_FALSE(ParseReleaseList(bad).ok()) << bad;
  }
  std::string many = "s0";
  for (int i = 1; i <= static_cast<int>(kMaxReleaseNames); ++i) many += ",s" + std::to_string(i);
  EXPECT_FALSE(ParseReleaseList(many).ok());
}

TEST(RequestParsersTest, NamesAndHexIds) {
  EXPECT_TRUE(IsValidName("phi-checksum_v1.2"));
  EXPECT_FALSE(IsValidName(".hidden"));
  EXPECT_FALSE(IsValidName(std::string(129, 'a')));
  EXPECT_TRUE(IsValidHexId("0123456789abcdef0123456789abcdef"));
  EXPECT_FALSE(IsValidHexId("0123456789ABCDEF0123456789abcdef"));
  EXPECT_FALSE(IsValidHexId("0123"));
}

TEST(RequestParsersTest, AttestQueryNamesAPolicyOrSecretsOrIsItsProblem) {
  AttestQuery q;
  EXPECT_FALSE(ParseAttestQuery({{"policy", "p1"}, {"release", "a,b"}}, &q));
  EXPECT_EQ(q.policy_id, "p1");
  EXPECT_THAT(q.release, ::testing::ElementsAre("a", "b"));
  EXPECT_FALSE(ParseAttestQuery({{"release", "a"}}, &q));
  EXPECT_EQ(q.policy_id, "");
  auto type_of = [](const std::map<std::string, std::string>& query) {
    AttestQuery out;
    std::optional<ApiResponse> p = ParseAttestQuery(query, &out);
    if (!p) return std::string("none");
    EXPECT_EQ(p->status, 400);
    return (*ParseJsonStrict(p->body))["type"].get<std::string>().substr(kProblemTypeBase.size());
  };
  EXPECT_EQ(type_of({}), "policy-required");
  EXPECT_EQ(type_of({{"other", "x"}}), "policy-required");
  EXPECT_EQ(type_of({{"policy", ".p"}}), "bad-policy-id");
  EXPECT_EQ(type_of({{"policy", ""}}), "bad-policy-id");
  EXPECT_EQ(type_of({{"policy", "p"}, {"release", "a,a"}}), "bad-release");
}

}  // namespace
}  // namespace fdattest
