// Launch steps 1 and 12b of secret release with a fake SecretSource: the
// release configuration must match the profile before anything happens, a
// released JWE ends up in its sealed fd, and a refusal, a failed exchange or
// a JWE for another launch leaves every secret fd empty and names why.
#include "launcher/secret_source.h"

#include <fcntl.h>
#include <unistd.h>

#include <map>
#include <optional>
#include <string>

#include "absl/strings/str_cat.h"
#include "common/json.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/jose_test_util.h"

namespace fdattest {
namespace {

using ::testing::HasSubstr;
using testing::RunJose;
using testing::ScratchDir;

constexpr int kKeyFd = 200;
constexpr int kTokenFd = 201;
constexpr char kLaunchId[] = "00112233445566778899aabbccddeeff";

Profile SecretProfile() {
  absl::StatusOr<Profile> p = Profile::Parse(absl::StrCat(
      R"({"version":1,"name":"s","fds":[{"fd":1,"role":"out","access":"w","null":true},{"fd":)",
      kKeyFd, R"(,"role":"secret","access":"r","secret":"key"},{"fd":)", kTokenFd,
      R"(,"role":"token","access":"r","secret":"token"}]})"));
  EXPECT_TRUE(p.ok()) << p.status();
  return *std::move(p);
}

TEST(CheckReleaseOptionsTest, EverySecretFdNeedsItsReleaseAndViceVersa) {
  const Profile p = SecretProfile();
  EXPECT_TRUE(CheckReleaseOptions(p, {"token", "key"}, true, true, false).ok());
  EXPECT_THAT(CheckReleaseOptions(p, {"key"}, true, true, false).message(),
              HasSubstr("profile fd 201 is secret \"token\", but no --release token is given"));
  EXPECT_THAT(CheckReleaseOptions(p, {}, true, true, false).message(),
              HasSubstr("would start with an empty secret fd"));
  EXPECT_THAT(CheckReleaseOptions(p, {"key", "token", "extra"}, true, true, false).message(),
              HasSubstr("--release extra: the profile declares no fd"));
  EXPECT_THAT(CheckReleaseOptions(p, {"key", "token", "key"}, true, true, false).message(),
              HasSubstr("--release key is given twice"));
  EXPECT_THAT(CheckReleaseOptions(p, {"key", "to ken"}, true, true, false).message(),
              HasSubstr("1..64 characters"));
}

TEST(CheckReleaseOptionsTest, AReleaseNeedsAnAttestedLaunchASourceAndTheVerifiersNonce) {
  const Profile p = SecretProfile();
  EXPECT_THAT(CheckReleaseOptions(p, {"key", "token"}, false, true, false).message(),
              HasSubstr("needs an attested launch"));
  EXPECT_THAT(CheckReleaseOptions(p, {"key", "token"}, true, false, false).message(),
              HasSubstr("needs a verifier"));
  EXPECT_THAT(CheckReleaseOptions(p, {"key", "token"}, true, true, true).message(),
              HasSubstr("--nonce cannot be used with --release"));
  // A profile without secret fds needs nothing.
  absl::StatusOr<Profile> plain = Profile::Parse(R"({"version":1,"name":"p","fds":[]})");
  ASSERT_TRUE(plain.ok());
  EXPECT_TRUE(CheckReleaseOptions(*plain, {}, false, false, true).ok());
  EXPECT_THAT(CheckReleaseOptions(*plain, {"key"}, true, true, false).message(),
              HasSubstr("declares no fd"));
}

// Answers with a scripted outcome and records what it was asked.
class FakeSource : public SecretSource {
 public:
  absl::StatusOr<std::string> Challenge() override { return std::string(32, 'n'); }
  absl::Status Probe() override { return absl::OkStatus(); }
  absl::StatusOr<ReleaseOutcome> Release(absl::string_view evidence,
                                         const std::vector<std::string>& names) override {
    evidence_ = std::string(evidence);
    names_ = names;
    return outcome_;
  }
  absl::StatusOr<ReleaseOutcome> outcome_;
  std::string evidence_;
  std::vector<std::string> names_;
};

class ReceiveSecretsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<LaunchKey> key = LaunchKey::Generate();
    ASSERT_TRUE(key.ok()) << key.status();
    key_.emplace(*std::move(key));
    absl::StatusOr<PendingSecrets> pending = PendingSecrets::Establish(SecretProfile(), 210);
    ASSERT_TRUE(pending.ok()) << pending.status();
    pending_.emplace(*std::move(pending));
  }
  void TearDown() override {
    pending_.reset();
    CloseRawFd(kKeyFd);
    CloseRawFd(kTokenFd);
  }

  // A JWE from the independent `jose` CLI to the launch key.
  std::string Jwe(absl::string_view plaintext, const std::string& kid = kLaunchId) {
    Json jwk = key_->public_key().ToJwk();
    jwk["alg"] = "ECDH-ES";
    dir_.Write("pub.jwk", CanonicalJson(jwk).value());
    dir_.Write("msg", plaintext);
    auto r = RunJose({"jwe", "enc", "-I", dir_.Path("msg"), "-k", dir_.Path("pub.jwk"), "-i",
                      CanonicalJson({{"protected", {{"enc", "A256GCM"}, {"kid", kid}}}}).value(),
                      "-c", "-o", dir_.Path("out.jwe")},
                     dir_);
    EXPECT_TRUE(r.ok() && r->exit_code == 0);
    return dir_.Read("out.jwe");
  }

  static std::string Contents(int fd) {
    std::string out(4096, '\0');
    ssize_t n = pread(fd, out.data(), out.size(), 0);
    out.resize(n > 0 ? static_cast<size_t>(n) : 0);
    return out;
  }
  static void ExpectEmptyAndUnsealed(int fd) {
    EXPECT_EQ(Contents(fd), "") << "fd " << fd;
    EXPECT_EQ(fcntl(fd, F_GET_SEALS), 0) << "fd " << fd;
  }

  absl::Status Receive() {
    return ReceiveSecrets(source_, "EVIDENCE", kLaunchId, *key_, *pending_);
  }

  ScratchDir dir_;
  std::optional<LaunchKey> key_;
  std::optional<PendingSecrets> pending_;
  FakeSource source_;
};

TEST_F(ReceiveSecretsTest, FillsEachSecretFdWithItsReleasedSecret) {
  ReleaseOutcome outcome{.verdict = "affirming"};
  outcome.secrets = {{"key", Jwe("the PHI key")}, {"token", Jwe("tok")}};
  source_.outcome_ = outcome;
  ASSERT_TRUE(Receive().ok());
  EXPECT_EQ(source_.evidence_, "EVIDENCE");
  EXPECT_EQ(source_.names_, (std::vector<std::string>{"key", "token"}));
  EXPECT_EQ(Contents(kKeyFd), "the PHI key");
  EXPECT_EQ(Contents(kTokenFd), "tok");
  EXPECT_EQ(fcntl(kKeyFd, F_GET_SEALS), kSecretSeals);
  EXPECT_TRUE(pending_->CheckAllFilled().ok());
}

TEST_F(ReceiveSecretsTest, ARefusalNamesTheVerdictTheSecretsAndTheFailedRules) {
  ReleaseOutcome outcome{.verdict = "contraindicated", .reason = "R3 failed"};
  outcome.secrets = {{"key", Jwe("the PHI key")}};  // one released, one refused
  outcome.refused = {{"token", "verdict is contraindicated"}};
  outcome.failed_rules = {"R3 output only encrypted: fd 1 (out): ext4: persisted, not encrypted",
                          "R7 no PHI at rest: fd 1 (out)"};
  source_.outcome_ = outcome;
  absl::Status s = Receive();
  EXPECT_EQ(s.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(s.message(), HasSubstr("secret release refused: verdict contraindicated (R3 failed)"));
  EXPECT_THAT(s.message(), HasSubstr("token: verdict is contraindicated"));
  EXPECT_THAT(s.message(), HasSubstr("failed rules: R3 output only encrypted: fd 1 (out): ext4: "
                                     "persisted, not encrypted; R7 no PHI at rest"));
  // Nothing is filled unless everything was released.
  ExpectEmptyAndUnsealed(kKeyFd);
  ExpectEmptyAndUnsealed(kTokenFd);
}

TEST_F(ReceiveSecretsTest, ASecretMissingWithoutReasonIsStillARefusal) {
  source_.outcome_ = ReleaseOutcome{.verdict = "affirming"};
  absl::Status s = Receive();
  EXPECT_EQ(s.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(s.message(), HasSubstr("key: not released; token: not released"));
}

TEST_F(ReceiveSecretsTest, AFailedExchangeFailsTheLaunch) {
  source_.outcome_ = absl::UnavailableError("verifier unreachable");
  absl::Status s = Receive();
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(s.message(), HasSubstr("secret release: verifier unreachable"));
  ExpectEmptyAndUnsealed(kKeyFd);
}

TEST_F(ReceiveSecretsTest, AJweForAnotherLaunchOrGarbageIsRefused) {
  ReleaseOutcome outcome{.verdict = "affirming"};
  outcome.secrets = {{"key", Jwe("k", "ffeeddccbbaa99887766554433221100")}, {"token", Jwe("t")}};
  source_.outcome_ = outcome;
  absl::Status s = Receive();
  EXPECT_EQ(s.code(), absl::StatusCode::kUnauthenticated);
  EXPECT_THAT(s.message(), HasSubstr("secret key: JWE is for launch"));
  ExpectEmptyAndUnsealed(kKeyFd);
  ExpectEmptyAndUnsealed(kTokenFd);

  outcome.secrets = {{"key", "not.a.jwe"}, {"token", Jwe("t")}};
  source_.outcome_ = outcome;
  EXPECT_EQ(Receive().code(), absl::StatusCode::kInvalidArgument);
  ExpectEmptyAndUnsealed(kKeyFd);
}

}  // namespace
}  // namespace fdattest
