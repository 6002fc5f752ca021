// `fdattest bpf check/explain` on files: exit statuses for a matching and a
// mismatching profile, unanalysable input, and usage errors.
#include "verifier/bpf_command.h"

#include <unistd.h>

#include <filesystem>
#include <string>

#include "common/base64.h"
#include "common/file_io.h"
#include "common/manifest.h"
#include "common/profile.h"
#include "common/sha256.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "launcher/filter.h"

namespace fdattest {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

class BpfCommandTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/fdattest-bpfcmd-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    auto bpf = CompileFilter({.fds = {{0, Access::kRead}, {1, Access::kWrite}, {2, Access::kAppend}},
                              .exec_fd = 7});
    ASSERT_TRUE(bpf.ok());
    bpf_ = *bpf;
    ASSERT_TRUE(WriteFileAtomic(Path("filter.bpf"), bpf_).ok());
    WriteProfile("match.json", R"([{"fd":0,"role":"in","access":"r","null":true},
        {"fd":1,"role":"out","access":"w","null":true},{"fd":2,"role":"log","access":"a","null":true}])");
    auto match = Profile::Load(Path("match.json"));
    ASSERT_TRUE(match.ok()) << match.status();
    // The manifest records the profile it was made from (match.json).
    Json manifest = {{"profile", {{"name", "t"}, {"sha256", match->Sha256Hex()}}},
                     {"fds", {{{"fd", 0}, {"role", "in"}, {"access", "r"}},
                              {{"fd", 1}, {"role", "out"}, {"access", "w"}},
                              {{"fd", 2}, {"role", "log"}, {"access", "a"}}}},
                     {"filter", {{"bpf_base64", Base64Encode(bpf_)},
                                 {"sha256", HexEncode(Sha256(bpf_))},
                                 {"exec_fd", 7}}}};
    ASSERT_TRUE(WriteFileAtomic(Path("manifest.json"), manifest.dump()).ok());
    // Claims fd 1 is read-only: the filter lets it be written.
    WriteProfile("mismatch.json", R"([{"fd":0,"role":"in","access":"r","null":true},
        {"fd":1,"role":"out","access":"r","null":true},{"fd":2,"role":"log","access":"a","null":true}])");
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  void WriteProfile(const std::string& name, const std::string& fds) {
    ASSERT_TRUE(WriteFileAtomic(Path(name), R"({"version":1,"name":"t","fds":)" + fds + "}").ok());
  }
  std::string Path(const std::string& name) const { return dir_ + "/" + name; }

  std::string dir_;
  std::string bpf_;
};

TEST_F(BpfCommandTest, MatchingProfileExitsZeroFromManifestAndRawBytes) {
  EXPECT_EQ(RunBpfCheck({.input = Path("manifest.json"), .profile = Path("match.json")}), kExitOk);
  EXPECT_EQ(RunBpfCheck({.input = Path("filter.bpf"), .profile = Path("match.json"), .exec_fd = 7,
                         .json = true}),
            kExitOk);
}

TEST_F(BpfCommandTest, MismatchExitsOne) {
  EXPECT_EQ(RunBpfCheck({.input = Path("manifest.json"), .profile = Path("mismatch.json")}),
            kExitMismatch);
  // Without the exec fd, the filter's execveat rule is unexplained.
  EXPECT_EQ(RunBpfCheck({.input = Path("filter.bpf"), .profile = Path("match.json")}), kExitMismatch);
}

TEST_F(BpfCommandTest, TamperedManifestAndMalformedBytesCannotBeAnalyzed) {
  std::string bad = bpf_;
  bad[bad.size() - 8] = 0x07;  // last instruction no longer a return
  ASSERT_TRUE(WriteFileAtomic(Path("bad.bpf"), bad).ok());
  EXPECT_EQ(RunBpfCheck({.input = Path("bad.bpf"), .profile = Path("match.json")}), kExitCannotAnalyze);
  EXPECT_EQ(RunBpfExplain({.input = Path("bad.bpf")}), kExitCannotAnalyze);
  Json manifest = {{"filter", {{"bpf_base64", Base64Encode(bpf_)},
                               {"sha256", HexEncode(Sha256("other"))}}}};
  ASSERT_TRUE(WriteFileAtomic(Path("tampered.json"), manifest.dump()).ok());
  EXPECT_EQ(RunBpfExplain({.input = Path("tampered.json")}), kExitCannotAnalyze);
}

TEST_F(BpfCommandTest, UsageErrors) {
  EXPECT_EQ(RunBpfCheck({.input = Path("manifest.json")}), kExitUsage);
  EXPECT_EQ(RunBpfCheck({.input = Path("missing.bpf"), .profile = Path("match.json")}), kExitUsage);
  EXPECT_EQ(RunBpfCheck({.input = Path("manifest.json"), .profile = Path("missing.json")}), kExitUsage);
}

TEST_F(BpfCommandTest, CounterexampleReadsAsACall) {
  ::testing::internal::CaptureStdout();
  EXPECT_EQ(RunBpfCheck({.input = Path("manifest.json"), .profile = Path("mismatch.json")}),
            kExitMismatch);
  const std::string out = ::testing::internal::GetCapturedStdout();
  EXPECT_THAT(out, HasSubstr("counterexample: write(1, …) allowed, but fd 1 is not a declared "
                             "writable fd (the filter answers ALLOW)"));
  // And the other way round: a declared fd the filter refuses.
  EXPECT_THAT(out, HasSubstr("counterexample: read(1, …) refused, but fd 1 is a declared readable "
                             "fd (the filter answers EBADF)"));
}

TEST_F(BpfCommandTest, WarnsWhenTheProfileIsNotTheManifests) {
  for (const char* name : {"match.json", "mismatch.json"}) {
    ::testing::internal::CaptureStderr();
    ::testing::internal::CaptureStdout();
    RunBpfCheck({.input = Path("manifest.json"), .profile = Path(name)});
    ::testing::internal::GetCapturedStdout();
    const std::string err = ::testing::internal::GetCapturedStderr();
    if (std::string(name) == "match.json") {
      EXPECT_THAT(err, Not(HasSubstr("warning"))) << name;
    } else {
      EXPECT_THAT(err, HasSubstr("is not the one the manifest was made from")) << name;
    }
  }
  // Raw bytes record no profile: nothing to compare, no warning.
  ::testing::internal::CaptureStderr();
  ::testing::internal::CaptureStdout();
  RunBpfCheck({.input = Path("filter.bpf"), .profile = Path("mismatch.json"), .exec_fd = 7});
  ::testing::internal::GetCapturedStdout();
  EXPECT_THAT(::testing::internal::GetCapturedStderr(), Not(HasSubstr("warning")));
}

TEST_F(BpfCommandTest, ExplainNamesTheManifestsRolesAndExecFd) {
  ::testing::internal::CaptureStdout();
  EXPECT_EQ(RunBpfExplain({.input = Path("manifest.json")}), kExitOk);
  const std::string out = ::testing::internal::GetCapturedStdout();
  EXPECT_EQ(out.rfind("Summary", 0), 0u);
  EXPECT_THAT(out, HasSubstr("  fd 1 out (w): write"));
  EXPECT_THAT(out, HasSubstr("  fd 7: the exec fd"));
  EXPECT_THAT(out, HasSubstr("ALLOW when fd in {1 out, 2 log} (all 64 bits)"));
}

TEST_F(BpfCommandTest, ExplainSucceeds) {
  EXPECT_EQ(RunBpfExplain({.input = Path("manifest.json"), .profile = Path("match.json"), .json = true}),
            kExitOk);
}

}  // namespace
}  // namespace fdattest
