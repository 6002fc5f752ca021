// Secret release end to end on the launcher's side: the real launch sequence
// (Launch(), in a forked child, which becomes the workload) measured by the
// real fdattestd on a private swtpm, with a verifier stand-in (a SecretSource
// that issues the nonce and releases with the verifier's own
// EncryptSecretForLaunch to the manifest's release_key). The workload, a
// static helper, reads its secret from fd 5; a refusal leaves it unstarted.
// And fdlaunch itself refuses a secret fd nobody releases, before anything
// on disk changes.
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <string>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/evidence.h"
#include "common/file_io.h"
#include "common/manifest.h"
#include "gtest/gtest.h"
#include "launcher/launch.h"
#include "launcher/secret_source.h"
#include "tests/integration/launch_util.h"
#include "tests/support/fdattestd_harness.h"
#include "verifier/secret_release.h"

namespace fdattest::integration {
namespace {

constexpr char kSecret[] = "the PHI key: 0f1e2d3c4b5a6978";
constexpr char kSecretName[] = "phi-etl-key";

// What the verifier stand-in does with the evidence.
enum class Answer { kRelease, kRefuse, kReleaseForAnotherLaunch };

// The verifier's side, in the launching process: the nonce it issued must be
// the evidence's, the manifest's release_key is what it encrypts to, and the
// secret's fd must be declared -- the checks of ReleaseSecrets that do not
// need a policy verdict (tests/verifier and verifier/secret_release_test.cc
// cover that).
class VerifierStandIn : public SecretSource {
 public:
  explicit VerifierStandIn(Answer answer) : answer_(answer) {}
  absl::Status Probe() override { return absl::OkStatus(); }

  absl::StatusOr<std::string> Challenge() override {
    nonce_ = std::string(32, '\0');
    for (size_t i = 0; i < nonce_.size(); ++i) nonce_[i] = static_cast<char>(0xa0 + i);
    return nonce_;
  }

  absl::StatusOr<ReleaseOutcome> Release(absl::string_view evidence,
                                         const std::vector<std::string>& names) override {
    ASSIGN_OR_RETURN(Evidence ev, Evidence::Parse(evidence));
    if (ev.nonce != nonce_) return absl::PermissionDeniedError("evidence nonce was not issued");
    ASSIGN_OR_RETURN(Manifest m, Manifest::Parse(ev.manifest));
    ReleaseOutcome out;
    if (answer_ == Answer::kRefuse) {
      out.verdict = "contraindicated";
      out.reason = "R3 failed";
      out.failed_rules = {"R3 output only encrypted: fd 1 (phi-output): ext4: persisted, "
                          "not encrypted"};
      for (const std::string& n : names) out.refused[n] = "verdict is contraindicated";
      return out;
    }
    out.verdict = "affirming";
    if (!m.release_key) return absl::FailedPreconditionError("manifest has no release_key");
    const std::string kid = answer_ == Answer::kReleaseForAnotherLaunch
                                ? std::string("ffffffffffffffffffffffffffffffff")
                                : m.launch_id;
    for (const std::string& n : names) {
      bool declared = false;
      for (const FdFingerprint& fp : m.fds) declared = declared || fp.secret == n;
      if (!declared) return absl::FailedPreconditionError("secret fd not in the manifest");
      ASSIGN_OR_RETURN(out.secrets[n], EncryptSecretForLaunch(m.release_key->ToJwk(), kSecret, kid));
    }
    return out;
  }

 private:
  Answer answer_;
  std::string nonce_;
};

struct LaunchResult {
  int exit_code = -1;
  std::string out, err;
};

class SecretReleaseLaunchTest : public testing::FdattestdTest {
 protected:
  void SetUp() override {
    testing::FdattestdTest::SetUp();
    ASSERT_TRUE(daemon_->Start({"--allow-uid", std::to_string(getuid())}).ok())
        << daemon_->stderr_text();
    ASSERT_TRUE(dir_.ok());
    profile_ = dir_.File("profile.json");
    ASSERT_TRUE(WriteWholeFile(profile_, absl::StrCat(R"({"version":1,"name":"secret-reader","fds":[
      {"fd":1,"role":"phi-output","access":"w","inherit":true},
      {"fd":5,"role":"secret","access":"r","secret":")", kSecretName, R"("}]})")));
  }

  // Runs Launch() in a child with fd 1 and fd 2 on files; the child exits
  // with the workload's status, or 125 after printing why (as fdlaunch's
  // main does).
  LaunchResult RunLaunch(Answer answer) {
    const std::string out = dir_.File("out"), err = dir_.File("err");
    pid_t pid = fork();
    if (pid == 0) {
      UniqueFd o(open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600));
      UniqueFd e(open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600));
      if (!o || !e || dup2(o.get(), 1) != 1 || dup2(e.get(), 2) != 2) _exit(124);
      VerifierStandIn source(answer);
      LaunchOptions options;
      options.profile_path = profile_;
      options.manifest_out = dir_.File("manifest.json");
      options.attestor = socket_;
      options.evidence_out = dir_.File("evidence.json");
      options.release = {kSecretName};
      options.secret_source = &source;
      options.argv = {FDATTEST_SECRET_READER};
      Diagnostics diag;
      absl::StatusOr<int> status = Launch(options, diag);
      if (status.ok()) _exit(*status);  // the workload's status: it ran as this process's child
      diag.Error(status.status().message());
      _exit(kExitLaunchFailed);
    }
    LaunchResult r;
    EXPECT_GT(pid, 0);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    int status = 0;
    while (waitpid(pid, &status, WNOHANG) == 0) {
      if (std::chrono::steady_clock::now() > deadline) {
        kill(pid, SIGKILL);
        waitpid(pid, &status, 0);
        ADD_FAILURE() << "launch timed out";
        return r;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    r.out = ReadWholeFile(out).value_or("");
    r.err = ReadWholeFile(err).value_or("");
    return r;
  }

  TempDir dir_;
  std::string profile_;
};

TEST_F(SecretReleaseLaunchTest, TheReleasedSecretIsTheWorkloadsSealedReadOnlyFd5) {
  LaunchResult r = RunLaunch(Answer::kRelease);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, absl::StrCat(kSecret, "\n--\nno write\nno truncate\n"));
  EXPECT_EQ(r.err, "") << "an attested launch that goes on prints nothing";
  // The measured manifest carries the launch key and the empty, read-only memfd.
  std::optional<std::string> bytes = ReadWholeFile(dir_.File("manifest.json"));
  ASSERT_TRUE(bytes.has_value());
  absl::StatusOr<Manifest> m = Manifest::Parse(*bytes);
  ASSERT_TRUE(m.ok()) << m.status();
  ASSERT_TRUE(m->release_key.has_value());
  ASSERT_EQ(m->fds.size(), 2u);
  const FdFingerprint& fd5 = m->fds[1];
  EXPECT_EQ(fd5.secret, kSecretName);
  EXPECT_EQ(fd5.source, "secret");
  EXPECT_EQ(fd5.kind, "file");
  EXPECT_EQ(fd5.open_mode, "r");
  EXPECT_EQ(fd5.stat.size, 0u);
  EXPECT_EQ(fd5.memfd_seals, 0u);
  // The secret is in no file the launch wrote.
  for (const char* name : {"manifest.json", "evidence.json", "err"}) {
    EXPECT_EQ(ReadWholeFile(dir_.File(name)).value_or("").find(kSecret), std::string::npos) << name;
  }
}

TEST_F(SecretReleaseLaunchTest, ARefusalLeavesTheWorkloadUnstartedAndNamesTheFailedRules) {
  LaunchResult r = RunLaunch(Answer::kRefuse);
  EXPECT_EQ(r.exit_code, kExitLaunchFailed);
  EXPECT_EQ(r.out, "") << "the workload never ran";
  EXPECT_EQ(r.err.rfind("fdlaunch: error: secret release refused: verdict contraindicated", 0), 0u)
      << r.err;
  EXPECT_NE(r.err.find("phi-etl-key: verdict is contraindicated"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("failed rules: R3 output only encrypted"), std::string::npos) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << "one line: " << r.err;
}

TEST_F(SecretReleaseLaunchTest, ASecretForAnotherLaunchIsRefused) {
  LaunchResult r = RunLaunch(Answer::kReleaseForAnotherLaunch);
  EXPECT_EQ(r.exit_code, kExitLaunchFailed);
  EXPECT_EQ(r.out, "");
  EXPECT_NE(r.err.find("secret phi-etl-key: JWE is for launch"), std::string::npos) << r.err;
}

// fdlaunch has no source to release from unless one is configured: a secret
// fd then fails the launch before any declared file is created.
TEST(SecretProfileWithoutRelease, FdlaunchRefusesBeforeAnythingOnDiskChanges) {
  TempDir dir;
  ASSERT_TRUE(dir.ok());
  const std::string out = dir.File("out.txt");
  ASSERT_TRUE(WriteWholeFile(dir.File("profile.json"), absl::StrCat(R"({"version":1,"name":"s","fds":[
      {"fd":1,"role":"phi-output","access":"w","open":")", out, R"("},
      {"fd":5,"role":"secret","access":"r","secret":"k"}]})")));
  RunResult r = RunFdlaunch({"--profile", dir.File("profile.json"), "--", RanHelperPath()});
  EXPECT_EQ(r.exit_code(), kExitLaunchFailed);
  EXPECT_EQ(r.out, "");
  EXPECT_NE(r.err.find("fdlaunch: error: profile fd 5 is secret \"k\", but no --release k is given"),
            std::string::npos)
      << r.err;
  EXPECT_FALSE(std::filesystem::exists(out)) << "nothing created";
}

}  // namespace
}  // namespace fdattest::integration
