// Which secrets an attestation earns (ReleaseSecrets), and the JWE that
// carries one (EncryptSecretForLaunch) opened by the independent `jose` CLI.
// tests/verifier/jwe_interop_test.cc opens it with the launcher's code.
#include "verifier/secret_release.h"

#include <string>
#include <vector>

#include "absl/strings/str_split.h"
#include "common/base64.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/jose_test_util.h"
#include "tests/support/policy_test_util.h"

namespace fdattest {
namespace {

using ::testing::HasSubstr;
using testing::RunJose;
using testing::ScratchDir;

constexpr char kLaunchId[] = "00112233445566778899aabbccddeeff";
constexpr char kSecretName[] = "phi-etl-key";  // examples/policies/hipaa-phi-etl.json lists it

// An affirming result whose manifest has a release key and the secret's fd.
VerifyResult Affirming() {
  VerifyResult r;
  r.verdict = Verdict::kAffirming;
  r.failure = FailureClass::kNone;
  Manifest m = testing::HipaaManifest();
  m.launch_id = kLaunchId;
  FdFingerprint fd = testing::FileFd(5, "secret", "r", "tmpfs", false);
  fd.source = "secret";
  fd.secret = kSecretName;
  m.fds.push_back(fd);
  m.release_key = ReleaseKey{.x = Base64UrlEncode(std::string(32, 'x')),
                             .y = Base64UrlEncode(std::string(32, 'y'))};
  r.launch_id = m.launch_id;
  r.manifest = m;
  return r;
}

class ReleaseSecretsTest : public ::testing::Test {
 protected:
  BoundSecret Bound(const std::string& name) { return {name, policy_.id}; }
  ReleaseDecision Decide(const std::vector<BoundSecret>& requested) {
    return ReleaseSecrets(result_, policy_, requested);
  }
  std::string Refusal(const std::string& name) {
    ReleaseDecision d = Decide({Bound(name)});
    EXPECT_TRUE(d.released.empty());
    return d.refused.contains(name) ? d.refused.at(name) : "(released)";
  }

  Policy policy_ = testing::LoadExample("hipaa-phi-etl.json");
  VerifyResult result_ = Affirming();
};

TEST_F(ReleaseSecretsTest, ReleasesOnAnAffirmingVerdictWithKeyAndDeclaredFd) {
  ReleaseDecision d = Decide({Bound(kSecretName)});
  EXPECT_EQ(d.released, std::vector<std::string>{kSecretName});
  EXPECT_TRUE(d.refused.empty());
}

TEST_F(ReleaseSecretsTest, RefusesEveryVerdictButAffirming) {
  for (Verdict v : {Verdict::kWarning, Verdict::kContraindicated, Verdict::kBrokenEvidence}) {
    result_.verdict = v;
    result_.reason = "R3 failed";
    EXPECT_THAT(Refusal(kSecretName),
                HasSubstr(absl::StrCat("verdict is ", VerdictName(v), ": R3 failed")));
  }
  // An affirming verdict without a verified manifest is no ground either.
  result_ = Affirming();
  result_.manifest.reset();
  EXPECT_THAT(Refusal(kSecretName), HasSubstr("only on an affirming verdict"));
}

TEST_F(ReleaseSecretsTest, RefusesASecretBoundToAnotherPolicyOrNotListedByIt) {
  ReleaseDecision d = Decide({{kSecretName, "https://policies.example.org/other"}});
  ASSERT_TRUE(d.released.empty());
  EXPECT_THAT(d.refused.at(kSecretName),
              HasSubstr("bound to policy https://policies.example.org/other, but the launch was "
                        "judged under"));
  policy_.secrets.clear();
  EXPECT_THAT(Refusal(kSecretName), HasSubstr("does not list it in \"secrets\""));
}

TEST_F(ReleaseSecretsTest, RefusesWithoutReleaseKeyOrDeclaredFd) {
  result_.manifest->release_key.reset();
  EXPECT_THAT(Refusal(kSecretName), HasSubstr("no release_key"));
  result_ = Affirming();
  result_.manifest->fds.back().secret = "other-key";
  EXPECT_THAT(Refusal(kSecretName), HasSubstr("declares no fd for it"));
}

TEST_F(ReleaseSecretsTest, DecidesEachNameOnItsOwnAndEachOnce) {
  policy_.secrets.push_back("unlisted-fd");
  ReleaseDecision d =
      Decide({Bound(kSecretName), Bound("unlisted-fd"), Bound(kSecretName), Bound("nope")});
  EXPECT_EQ(d.released, std::vector<std::string>{kSecretName});
  EXPECT_THAT(d.refused.at("unlisted-fd"), HasSubstr("declares no fd"));
  EXPECT_THAT(d.refused.at("nope"), HasSubstr("does not list it"));
  EXPECT_EQ(d.refused.size(), 2u);
}

// --- EncryptSecretForLaunch -----------------------------------------------------------

class EncryptSecretTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto r = RunJose({"jwk", "gen", "-i", R"({"kty":"EC","crv":"P-256"})", "-o",
                      dir_.Path("priv.jwk")},
                     dir_);
    ASSERT_TRUE(r.ok() && r->exit_code == 0);
    Json priv = ParseJsonStrict(dir_.Read("priv.jwk")).value();
    release_key_ = {{"crv", "P-256"}, {"kty", "EC"}, {"x", priv["x"]}, {"y", priv["y"]}};
  }
  // `jose jwe dec` with the private key; nullopt when it refuses.
  std::optional<std::string> CliDecrypt(const std::string& jwe) {
    dir_.Write("in.jwe", jwe);
    auto r = RunJose({"jwe", "dec", "-i", dir_.Path("in.jwe"), "-k", dir_.Path("priv.jwk")}, dir_);
    if (!r.ok() || r->exit_code != 0) return std::nullopt;
    return r->out;
  }

  ScratchDir dir_;
  Json release_key_;
};

TEST_F(EncryptSecretTest, TheJoseCliOpensItAndTheHeaderIsExactlyWhatTheLauncherAccepts) {
  const std::string secret("PHI key \0\xff", 10);
  absl::StatusOr<std::string> jwe = EncryptSecretForLaunch(release_key_, secret, kLaunchId);
  ASSERT_TRUE(jwe.ok()) << jwe.status();
  EXPECT_EQ(CliDecrypt(*jwe), secret);
  std::vector<std::string> parts = absl::StrSplit(*jwe, '.');
  ASSERT_EQ(parts.size(), 5u);
  EXPECT_EQ(parts[1], "") << "ECDH-ES: no wrapped key";
  Json header = ParseJsonStrict(Base64UrlDecode(parts[0]).value()).value();
  EXPECT_EQ(header["alg"], "ECDH-ES");
  EXPECT_EQ(header["enc"], "A256GCM");
  EXPECT_EQ(header["kid"], kLaunchId);
  EXPECT_EQ(header["epk"]["crv"], "P-256");
  EXPECT_EQ(header.size(), 4u);
  EXPECT_EQ(Base64UrlDecode(parts[2])->size(), 12u);
  EXPECT_EQ(Base64UrlDecode(parts[4])->size(), 16u);
  // A fresh ephemeral key each time.
  absl::StatusOr<std::string> again = EncryptSecretForLaunch(release_key_, secret, kLaunchId);
  ASSERT_TRUE(again.ok());
  EXPECT_NE(parts[0], std::vector<std::string>(absl::StrSplit(*again, '.'))[0]);
}

TEST_F(EncryptSecretTest, RefusesKeysThatAreNotAPublicP256Jwk) {
  const std::vector<std::pair<std::function<void(Json&)>, std::string>> cases = {
      {[](Json& k) { k["d"] = "AAAA"; }, "member \"d\" is not accepted"},
      {[](Json& k) { k["alg"] = "ECDH-ES"; }, "member \"alg\" is not accepted"},
      {[](Json& k) { k["kty"] = "RSA"; }, "not an EC P-256 key"},
      {[](Json& k) { k["crv"] = "P-384"; }, "not an EC P-256 key"},
      {[](Json& k) { k["x"] = Base64UrlEncode(std::string(31, 'x')); }, "release_key.x is not 32"},
      {[](Json& k) { k["y"] = Base64UrlEncode(std::string(32, '\x01')); }, "not on P-256"},
      {[](Json& k) { k["y"] = 5; }, "release_key.y is not a string"},
      {[](Json& k) { k = Json::array(); }, "not a JWK object"},
  };
  for (const auto& [mutate, expected] : cases) {
    Json key = release_key_;
    mutate(key);
    absl::StatusOr<std::string> jwe = EncryptSecretForLaunch(key, "s", kLaunchId);
    EXPECT_EQ(jwe.status().code(), absl::StatusCode::kInvalidArgument) << expected;
    EXPECT_THAT(jwe.status().message(), HasSubstr(expected));
  }
  EXPECT_THAT(EncryptSecretForLaunch(release_key_, "", kLaunchId).status().message(),
              HasSubstr("the secret is empty"));
  EXPECT_THAT(EncryptSecretForLaunch(release_key_, "s", "ABC").status().message(),
              HasSubstr("launch id must be 32 lowercase hex"));
}

}  // namespace
}  // namespace fdattest
