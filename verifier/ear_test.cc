// EAR attestation results: the claims-set shape (draft-ietf-rats-ear-03),
// input validation (AR4SI trust vectors, nonces, times), issuing and
// verifying, and the independent client check — the real `jose jws ver`
// accepts our tokens and rejects every tampered one we do.
#include "verifier/ear.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/json.h"
#include "gtest/gtest.h"
#include "tests/support/jose_test_util.h"
#include "verifier/jose_key.h"

namespace fdattest {
namespace {

using testing::RunJose;
using testing::ScratchDir;

constexpr int64_t kIat = 1767225600;  // 2026-01-01T00:00:00Z

EarInput AffirmingInput() {
  EarInput in;
  in.status = EarStatus::kAffirming;
  in.trust_vector = {{"instance-identity", ar4si::kInstanceTrustworthy},
                     {"configuration", ar4si::kConfigApproved},
                     {"executables", ar4si::kExecutablesApprovedRuntime},
                     {"hardware", ar4si::kHardwareGenuine}};
  in.policy_ids = {"fdattest/policy/phi-checksum@sha256:00ff", "fdattest/rules/v1"};
  in.nonce = "0123456789abcdef";  // 16 bytes
  in.issued_at = kIat;
  in.expires_at = kIat + 300;
  in.verifier_build = "fdattest 0.5.0";
  in.private_claims = {{"rules", {{{"id", "fd-set-exact"}, {"result", "pass"}}}}};
  return in;
}

std::string MustCanonical(const Json& json) {
  auto text = CanonicalJson(json);
  EXPECT_TRUE(text.ok()) << text.status();
  return text.ok() ? *text : "";
}

std::vector<std::string> Parts(const std::string& jws) { return absl::StrSplit(jws, '.'); }

class EarTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto key = SigningKey::Generate();
    ASSERT_TRUE(key.ok()) << key.status();
    key_ = std::make_unique<SigningKey>(*std::move(key));
  }

  std::string Issue(const EarInput& in) {
    auto token = IssueEar(in, *key_);
    EXPECT_TRUE(token.ok()) << token.status();
    return token.ok() ? *token : "";
  }

  // `jose jws ver -i TOKEN -k PUBJWK -O PAYLOAD`: the exit status; the
  // payload it wrote is left in `payload` when non-null.
  int JoseVerify(const std::string& token, const std::string& public_jwk,
                 std::string* payload = nullptr) {
    dir_.Write("ear.jwt", token);
    dir_.Write("verifier.pub.jwk", public_jwk);
    dir_.Write("payload.json", "");
    auto r = RunJose({"jws", "ver", "-i", dir_.Path("ear.jwt"), "-k", dir_.Path("verifier.pub.jwk"),
                      "-O", dir_.Path("payload.json")},
                     dir_);
    EXPECT_TRUE(r.ok()) << r.status();
    if (payload != nullptr) *payload = dir_.Read("payload.json");
    return r.ok() ? r->exit_code : -1;
  }

  ScratchDir dir_;
  std::unique_ptr<SigningKey> key_;
};

TEST(EarStatusTest, NamesTiersAndClaimTiers) {
  EXPECT_EQ(EarStatusName(EarStatus::kNone), "none");
  EXPECT_EQ(EarStatusName(EarStatus::kAffirming), "affirming");
  EXPECT_EQ(EarStatusName(EarStatus::kWarning), "warning");
  EXPECT_EQ(EarStatusName(EarStatus::kContraindicated), "contraindicated");
  EXPECT_EQ(EarStatusTier(EarStatus::kNone), 0);
  EXPECT_EQ(EarStatusTier(EarStatus::kAffirming), 2);
  EXPECT_EQ(EarStatusTier(EarStatus::kWarning), 32);
  EXPECT_EQ(EarStatusTier(EarStatus::kContraindicated), 96);
  EXPECT_EQ(*ParseEarStatus("warning"), EarStatus::kWarning);
  EXPECT_FALSE(ParseEarStatus("Warning").ok());
  const std::vector<std::pair<int, EarStatus>> boundaries = {{-128, EarStatus::kContraindicated},
                                                             {-97, EarStatus::kContraindicated},
                                                             {-96, EarStatus::kWarning},
                                                             {-33, EarStatus::kWarning},
                                                             {-32, EarStatus::kAffirming},
                                                             {-2, EarStatus::kAffirming},
                                                             {-1, EarStatus::kNone},
                                                             {0, EarStatus::kNone},
                                                             {1, EarStatus::kNone},
                                                             {2, EarStatus::kAffirming},
                                                             {31, EarStatus::kAffirming},
                                                             {32, EarStatus::kWarning},
                                                             {95, EarStatus::kWarning},
                                                             {96, EarStatus::kContraindicated},
                                                             {99, EarStatus::kContraindicated},
                                                             {127, EarStatus::kContraindicated}};
  for (const auto& [value, tier] : boundaries) EXPECT_EQ(TrustClaimTier(value), tier) << value;
}

TEST(EarClaimsTest, HasTheDraft03Shape) {
  EarInput in = AffirmingInput();
  const std::string nonce = Base64UrlEncode(in.nonce);
  Json expected = {
      {"eat_profile", "tag:ietf.org,2026:rats/ear#03"},
      {"iat", kIat},
      {"exp", kIat + 300},
      {"ear_verifier_id", {{"developer", "fdattest"}, {"build", "fdattest 0.5.0"}}},
      {"ear_status", "affirming"},
      {"eat_nonce", nonce},
      {"ear_x_fdattest", {{"rules", {{{"id", "fd-set-exact"}, {"result", "pass"}}}}}},
      {"submods",
       {{"fdattest",
         {{"ear_status", "affirming"},
          {"ear_trustworthiness_vector",
           {{"instance-identity", 2}, {"configuration", 2}, {"executables", 2}, {"hardware", 2}}},
          {"ear_appraisal_policy_ids",
           {"fdattest/policy/phi-checksum@sha256:00ff", "fdattest/rules/v1"}},
          {"eat_nonce", nonce}}}}}};
  EXPECT_EQ(EarClaims(in), expected) << EarClaims(in).dump(2);
}

TEST(EarClaimsTest, OmitsOptionalClaimsWhenUnset) {
  EarInput in;
  in.status = EarStatus::kNone;
  in.issued_at = kIat;
  in.verifier_build = "fdattest 0.5.0";
  Json claims = EarClaims(in);
  for (const char* absent : {"exp", "eat_nonce", "ear_x_fdattest"}) {
    EXPECT_FALSE(claims.contains(absent)) << absent;
  }
  const Json& appraisal = claims["submods"]["fdattest"];
  EXPECT_EQ(appraisal, Json({{"ear_status", "none"}}));
  EXPECT_TRUE(ValidateEarInput(in).ok());
}

TEST(EarClaimsTest, NonceShorterThan8BytesGoesOnlyIntoThePrivateClaim) {
  for (size_t n = 1; n < 8; ++n) {
    EarInput in = AffirmingInput();
    in.nonce = std::string(n, '\x5a');
    ASSERT_TRUE(ValidateEarInput(in).ok());
    Json claims = EarClaims(in);
    EXPECT_FALSE(claims.contains("eat_nonce")) << n;
    EXPECT_FALSE(claims["submods"]["fdattest"].contains("eat_nonce")) << n;
    EXPECT_EQ(claims["ear_x_fdattest"]["nonce"], Base64UrlEncode(in.nonce)) << n;
    EXPECT_EQ(claims["ear_x_fdattest"]["rules"], in.private_claims["rules"]);
  }
  EarInput no_private = AffirmingInput();
  no_private.private_claims = nullptr;
  no_private.nonce = "abc";
  EXPECT_EQ(EarClaims(no_private)["ear_x_fdattest"], Json({{"nonce", "YWJj"}}));
}

TEST(EarClaimsTest, NonceOf8To64BytesIsEatNonce) {
  for (size_t n : {8u, 32u, 64u}) {
    EarInput in = AffirmingInput();
    in.nonce = std::string(n, '\xff');
    ASSERT_TRUE(ValidateEarInput(in).ok());
    Json claims = EarClaims(in);
    EXPECT_EQ(claims["eat_nonce"], Base64UrlEncode(in.nonce));
    EXPECT_EQ(claims["submods"]["fdattest"]["eat_nonce"], Base64UrlEncode(in.nonce));
    EXPECT_FALSE(claims["ear_x_fdattest"].contains("nonce"));
  }
  EarInput too_long = AffirmingInput();
  too_long.nonce = std::string(65, 'n');
  EXPECT_FALSE(ValidateEarInput(too_long).ok());
}

TEST(EarValidateTest, RejectsBadInput) {
  std::vector<std::pair<std::string, EarInput>> cases;
  auto add = [&](std::string name, auto edit) {
    EarInput in = AffirmingInput();
    edit(in);
    cases.emplace_back(std::move(name), std::move(in));
  };
  add("unknown claim name", [](EarInput& in) { in.trust_vector["fd-set"] = 2; });
  add("camel-case claim name", [](EarInput& in) { in.trust_vector["instanceIdentity"] = 2; });
  add("value 128", [](EarInput& in) { in.trust_vector["executables"] = 128; });
  add("value -129", [](EarInput& in) { in.trust_vector["executables"] = -129; });
  add("affirming beside contraindicated",
      [](EarInput& in) { in.trust_vector["executables"] = ar4si::kExecutablesContraindicated; });
  add("affirming beside crypto failure",
      [](EarInput& in) { in.trust_vector["instance-identity"] = ar4si::kCryptoValidationFailed; });
  add("warning beside contraindicated", [](EarInput& in) {
    in.status = EarStatus::kWarning;
    in.trust_vector["hardware"] = ar4si::kHardwareContraindicated;
  });
  add("none beside affirming", [](EarInput& in) { in.status = EarStatus::kNone; });
  add("empty policy id", [](EarInput& in) { in.policy_ids.push_back(""); });
  add("iat 0", [](EarInput& in) { in.issued_at = 0; });
  add("exp before iat", [](EarInput& in) { in.expires_at = in.issued_at - 1; });
  add("exp equal iat", [](EarInput& in) { in.expires_at = in.issued_at; });
  add("no build", [](EarInput& in) { in.verifier_build = ""; });
  add("no submod label", [](EarInput& in) { in.submod = ""; });
  add("private claims array", [](EarInput& in) { in.private_claims = Json::array(); });
  add("private claims float", [](EarInput& in) { in.private_claims["score"] = 0.5; });
  add("private nonce reserved", [](EarInput& in) { in.private_claims["nonce"] = "x"; });
  for (const auto& [name, in] : cases) {
    absl::Status s = ValidateEarInput(in);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << name;
    auto key = SigningKey::Generate();
    ASSERT_TRUE(key.ok());
    EXPECT_FALSE(IssueEar(in, *key).ok()) << name;
  }
}

TEST(EarValidateTest, AcceptsWorseStatusThanTheVector) {
  EarInput in = AffirmingInput();
  in.status = EarStatus::kContraindicated;  // e.g. a rule outside the vector failed
  EXPECT_TRUE(ValidateEarInput(in).ok());
  in.status = EarStatus::kWarning;
  in.trust_vector["configuration"] = ar4si::kConfigUnsafe;
  EXPECT_TRUE(ValidateEarInput(in).ok());
  in.trust_vector = {{"instance-identity", ar4si::kVerifierMalfunction}};
  in.status = EarStatus::kNone;
  EXPECT_TRUE(ValidateEarInput(in).ok());
}

TEST_F(EarTest, IssuesJwtThatVerifiesToTheClaims) {
  EarInput in = AffirmingInput();
  const std::string token = Issue(in);
  const std::vector<std::string> p = Parts(token);
  ASSERT_EQ(p.size(), 3u);
  EXPECT_EQ(*Base64UrlDecode(p[0]),
            absl::StrCat(R"({"alg":"ES256","kid":")", key_->kid(), R"(","typ":"JWT"})"));
  EXPECT_EQ(*Base64UrlDecode(p[1]), MustCanonical(EarClaims(in)));
  EXPECT_EQ(Base64UrlDecode(p[2])->size(), 64u);
  auto claims = VerifyEar(token, key_->PublicJwkJson());
  ASSERT_TRUE(claims.ok()) << claims.status();
  EXPECT_EQ(*claims, EarClaims(in));
}

TEST_F(EarTest, IndependentClientVerifiesTheToken) {
  EarInput in = AffirmingInput();
  const std::string token = Issue(in);
  std::string payload;
  EXPECT_EQ(JoseVerify(token, key_->PublicJwkJson(), &payload), 0);
  EXPECT_EQ(payload, MustCanonical(EarClaims(in)));
  // Also with the public JWK exactly as `fdattest key public` prints it.
  EXPECT_EQ(JoseVerify(token, key_->PublicJwkJson() + "\n"), 0);
}

TEST_F(EarTest, TamperedTokensFailHereAndInTheJoseCli) {
  const std::string token = Issue(AffirmingInput());
  const std::vector<std::string> p = Parts(token);
  std::string payload = *Base64UrlDecode(p[1]);
  std::string sig = *Base64UrlDecode(p[2]);

  std::vector<std::pair<std::string, std::string>> cases;
  {
    std::string flipped = payload;
    // "affirming" -> "affirmint": one byte, still valid JSON.
    size_t at = flipped.find("affirming");
    flipped[at + 8] ^= 0x13;
    cases.push_back({"payload byte", absl::StrCat(p[0], ".", Base64UrlEncode(flipped), ".", p[2])});
    std::string last = payload;
    last[last.size() - 2] ^= 0x01;
    cases.push_back(
        {"payload last bytes", absl::StrCat(p[0], ".", Base64UrlEncode(last), ".", p[2])});
  }
  {
    std::string r = sig, s = sig;
    r[0] ^= 0x01;
    s[63] ^= 0x01;
    cases.push_back({"signature R byte", absl::StrCat(p[0], ".", p[1], ".", Base64UrlEncode(r))});
    cases.push_back({"signature S byte", absl::StrCat(p[0], ".", p[1], ".", Base64UrlEncode(s))});
    cases.push_back(
        {"signature R,S swapped",
         absl::StrCat(p[0], ".", p[1], ".", Base64UrlEncode(sig.substr(32) + sig.substr(0, 32)))});
  }
  for (const char* alg : {"none", "HS256", "HS512", "RS256"}) {
    const std::string header = Base64UrlEncode(
        absl::StrCat(R"({"alg":")", alg, R"(","kid":")", key_->kid(), R"(","typ":"JWT"})"));
    cases.push_back({absl::StrCat("alg ", alg), absl::StrCat(header, ".", p[1], ".", p[2])});
  }
  {
    const std::string none = Base64UrlEncode(R"({"alg":"none"})");
    cases.push_back({"alg none, empty signature", absl::StrCat(none, ".", p[1], ".")});
  }
  {
    auto other = SigningKey::Generate();
    ASSERT_TRUE(other.ok());
    auto forged = IssueEar(AffirmingInput(), *other);
    ASSERT_TRUE(forged.ok());
    cases.push_back({"different key", *forged});
    // The other key's signature under our header (our kid).
    cases.push_back(
        {"different key, our kid", absl::StrCat(p[0], ".", p[1], ".", Parts(*forged)[2])});
  }
  for (const auto& [name, bad] : cases) {
    auto claims = VerifyEar(bad, key_->PublicJwkJson());
    EXPECT_FALSE(claims.ok()) << name;
    EXPECT_NE(JoseVerify(bad, key_->PublicJwkJson()), 0) << name;
  }
  // The untouched token still passes both, so the failures above are the edits.
  EXPECT_TRUE(VerifyEar(token, key_->PublicJwkJson()).ok());
  EXPECT_EQ(JoseVerify(token, key_->PublicJwkJson()), 0);
}

TEST_F(EarTest, VerifyRejectsSignedButMalformedClaims) {
  const Json good = EarClaims(AffirmingInput());
  std::vector<std::pair<std::string, std::string>> cases;
  auto add = [&](std::string name, auto edit) {
    Json c = good;
    edit(c);
    cases.emplace_back(std::move(name), c.dump());
  };
  add("other profile", [](Json& c) { c["eat_profile"] = "tag:github.com,2023:veraison/ear"; });
  add("-02 profile", [](Json& c) { c["eat_profile"] = "tag:ietf.org,2025-07:ear"; });
  add("no profile", [](Json& c) { c.erase("eat_profile"); });
  add("no iat", [](Json& c) { c.erase("iat"); });
  add("float iat", [](Json& c) { c["iat"] = 1.5e9; });
  add("string iat", [](Json& c) { c["iat"] = "1767225600"; });
  add("exp before iat", [](Json& c) { c["exp"] = kIat - 1; });
  add("no verifier id", [](Json& c) { c.erase("ear_verifier_id"); });
  add("verifier id without build", [](Json& c) { c["ear_verifier_id"].erase("build"); });
  add("no submods", [](Json& c) { c.erase("submods"); });
  add("empty submods", [](Json& c) { c["submods"] = Json::object(); });
  add("submod without status", [](Json& c) { c["submods"]["fdattest"].erase("ear_status"); });
  add("bad status name", [](Json& c) { c["submods"]["fdattest"]["ear_status"] = "ok"; });
  add("numeric status", [](Json& c) { c["submods"]["fdattest"]["ear_status"] = 2; });
  add("-02 style claim names",
      [](Json& c) { c["submods"]["fdattest"]["ear.status"] = "affirming"; });
  add("unknown trust claim",
      [](Json& c) { c["submods"]["fdattest"]["ear_trustworthiness_vector"]["fds"] = 2; });
  add("trust value 200",
      [](Json& c) { c["submods"]["fdattest"]["ear_trustworthiness_vector"]["hardware"] = 200; });
  add("status better than vector",
      [](Json& c) { c["submods"]["fdattest"]["ear_trustworthiness_vector"]["hardware"] = 96; });
  add("overall better than submod", [](Json& c) {
    c["submods"]["fdattest"]["ear_status"] = "warning";
    c["submods"]["fdattest"]["ear_trustworthiness_vector"] = Json::object();
  });
  add("empty policy ids",
      [](Json& c) { c["submods"]["fdattest"]["ear_appraisal_policy_ids"] = Json::array(); });
  add("policy id string (-02)",
      [](Json& c) { c["submods"]["fdattest"]["ear_appraisal_policy_ids"] = "fdattest/rules/v1"; });
  add("7-byte eat_nonce", [](Json& c) { c["eat_nonce"] = Base64UrlEncode("1234567"); });
  add("65-byte eat_nonce", [](Json& c) { c["eat_nonce"] = Base64UrlEncode(std::string(65, 'n')); });
  add("padded eat_nonce",
      [](Json& c) { c["eat_nonce"] = c["eat_nonce"].get<std::string>() + "=="; });
  add("unknown claim", [](Json& c) { c["iss"] = "someone"; });
  add("private claim not an object", [](Json& c) { c["ear_x_fdattest"] = "pass"; });
  cases.emplace_back("not an object", "[]");
  cases.emplace_back("duplicate claim", R"({"iat":1,"iat":2})");
  cases.emplace_back("not JSON", "eyJ");
  for (const auto& [name, payload] : cases) {
    auto token = key_->SignCompact(payload, "JWT");
    ASSERT_TRUE(token.ok());
    auto claims = VerifyEar(*token, key_->PublicJwkJson());
    EXPECT_EQ(claims.status().code(), absl::StatusCode::kInvalidArgument)
        << name << ": " << claims.status();
  }
  auto token = key_->SignCompact(good.dump(), "JWT");  // non-canonical text is fine
  ASSERT_TRUE(token.ok());
  EXPECT_TRUE(VerifyEar(*token, key_->PublicJwkJson()).ok());
}

TEST_F(EarTest, FreshnessUsesIatAndExp) {
  auto claims = VerifyEar(Issue(AffirmingInput()), key_->PublicJwkJson());
  ASSERT_TRUE(claims.ok());
  EXPECT_TRUE(CheckEarFreshness(*claims, kIat).ok());
  EXPECT_TRUE(CheckEarFreshness(*claims, kIat + 299).ok());
  EXPECT_EQ(CheckEarFreshness(*claims, kIat + 300).code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(CheckEarFreshness(*claims, kIat - 60).ok());
  EXPECT_EQ(CheckEarFreshness(*claims, kIat - 61).code(), absl::StatusCode::kFailedPrecondition);
  EarInput no_exp = AffirmingInput();
  no_exp.expires_at = 0;
  auto forever = VerifyEar(Issue(no_exp), key_->PublicJwkJson());
  ASSERT_TRUE(forever.ok());
  EXPECT_TRUE(CheckEarFreshness(*forever, kIat + 100000000).ok());
}

TEST_F(EarTest, CustomSubmodLabel) {
  EarInput in = AffirmingInput();
  in.submod = "job-42";
  auto claims = VerifyEar(Issue(in), key_->PublicJwkJson());
  ASSERT_TRUE(claims.ok());
  EXPECT_TRUE((*claims)["submods"].contains("job-42"));
  EXPECT_EQ((*claims)["submods"].size(), 1u);
}

}  // namespace
}  // namespace fdattest
