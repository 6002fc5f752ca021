// Refusals: every malformed or unsatisfiable profile, and every program that
// is not a static ELF, ends fdlaunch with status 125 and exactly one
// "fdlaunch: error:" line naming the problem, and the workload never runs.
// The workload is a helper that prints "RAN" on fd 1 and exits 42, so a
// launch that wrongly went ahead shows on our stdout pipe or in the status.
#include <gtest/gtest.h>
#include <linux/capability.h>
#include <sys/xattr.h>

#include <cerrno>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_replace.h"
#include "tests/integration/launch_util.h"

namespace fdattest::integration {
namespace {

// fd 1 is declared (inherit, w) in every profile that gets that far, so a
// workload that ran would reach our stdout pipe.
constexpr char kOutEntry[] = R"({"fd": 1, "role": "phi-output", "access": "w", "inherit": true})";

// A version-1 profile with fd 1 and `more_entries` (a JSON fragment starting
// with a comma, or empty) in "fds", and `more_keys` (ending with a comma)
// at the top level.
std::string Profile(const std::string& more_entries, const std::string& more_keys = "") {
  return R"({"version": 1, "name": "bad-case", )" + more_keys + R"( "fds": [)" + kOutEntry +
         more_entries + "]}";
}

struct BadCase {
  std::string name;
  std::string profile;              // "$DIR" stands for the test's scratch directory
  std::vector<std::string> expect;  // substrings of the error line
  bool write_profile = true;
  int inherit_fd = -1;    // when >= 0, a scratch file opened with...
  int inherit_flags = 0;  // ...these flags is placed at this number
};

std::vector<BadCase> Cases() {
  return {
      {"UnknownTopLevelKey", Profile("", R"("colour": "red",)"), {"unknown key", "\"colour\""}},
      {"UnknownFdEntryKey",
       Profile(R"(, {"fd": 0, "role": "in", "access": "r", "null": true, "permissions": "0600"})"),
       {"profile.fds[1]", "unknown key", "\"permissions\""}},
      {"VersionAsString",
       R"({"version": "1", "name": "bad-case", "fds": []})",
       {"\"version\" must be an integer"}},
      {"FdAsString",
       Profile(R"(, {"fd": "0", "role": "in", "access": "r", "null": true})"),
       {"profile.fds[1]", "\"fd\" must be an integer"}},
      {"AccessAsNumber",
       Profile(R"(, {"fd": 0, "role": "in", "access": 4, "null": true})"),
       {"profile.fds[1]", "\"access\" must be a string"}},
      {"FdsNotAnArray",
       R"({"version": 1, "name": "bad-case", "fds": {"fd": 1}})",
       {"\"fds\" must be an array"}},
      {"InheritAsString",
       R"({"version": 1, "name": "bad-case", "fds": [)"
       R"({"fd": 1, "role": "out", "access": "w", "inherit": "true"}]})",
       {"profile.fds[0]", "\"inherit\" must be true or false"}},
      {"VersionTwo", R"({"version": 2, "name": "bad-case", "fds": []})", {"\"version\""}},
      {"InvalidAccess",
       Profile(R"(, {"fd": 0, "role": "in", "access": "x", "null": true})"),
       {"profile.fds[1]", "\"access\"", "\"x\""}},
      {"AccessWordInsteadOfLetter",
       Profile(R"(, {"fd": 0, "role": "in", "access": "read", "null": true})"),
       {"profile.fds[1]", "\"access\"", "\"read\"", "did you mean \"r\""}},
      {"MisspeltRequiredKey",
       Profile(R"(, {"fd": 0, "role": "in", "acess": "r", "null": true})"),
       {"profile.fds[1]", "unknown key \"acess\"", "did you mean \"access\""}},
      {"MissingAccess",
       Profile(R"(, {"fd": 0, "role": "in", "null": true})"),
       {"profile.fds[1]", "missing required key \"access\""}},
      {"AuditLogWithWrite",
       Profile(R"(, {"fd": 2, "role": "audit-log", "access": "w", "open": "$DIR/audit.log"})"),
       {"fd 2", "audit-log", "append-only", "truncate"}},
      {"WritablePhiInput",
       Profile(R"(, {"fd": 0, "role": "phi-input", "access": "rw", "open": "$DIR/in.csv"})"),
       {"fd 0", "phi-input", "read-only"}},
      {"ClassContradictingRole",
       Profile(R"(, {"fd": 2, "role": "audit-log", "class": "control", "access": "w", "null": true})"),
       {"fd 2", "audit-log", "class audit", "contradicts"}},
      {"RelativeOpenPath",
       Profile(R"(, {"fd": 0, "role": "in", "access": "r", "open": "in.csv"})"),
       {"fd 0", "\"open\"", "\"in.csv\"", "relative"}},
      {"RelativeUnixSocketPath",
       Profile(R"(, {"fd": 3, "role": "sink", "access": "w", "connect": "unix:sink.sock"})"),
       {"fd 3", "\"connect\"", "\"sink.sock\"", "relative"}},
      {"JsonSyntaxErrorWithLineAndColumn",
       "{\"version\": 1,\n \"name\": \"bad-case\"\n \"fds\": []}",
       {"malformed JSON", "line 3, column 2"}},
      {"NegativeFd",
       Profile(R"(, {"fd": -1, "role": "in", "access": "r", "null": true})"),
       {"profile.fds[1]", "\"fd\" must be between 0 and 255"}},
      {"Fd256",
       Profile(R"(, {"fd": 256, "role": "in", "access": "r", "null": true})"),
       {"profile.fds[1]", "\"fd\" must be between 0 and 255"}},
      {"DuplicateFd",
       Profile(R"(, {"fd": 1, "role": "copy", "access": "w", "null": true})"),
       {"fd 1", "declared twice", "first in profile.fds[0]"}},
      {"FdWithoutSource",
       Profile(R"(, {"fd": 0, "role": "in", "access": "r"})"),
       {"fd 0", "no source"}},
      {"OpenAndNullSources",
       Profile(R"(, {"fd": 0, "role": "in", "access": "r", "open": "$DIR/in.csv", "null": true})"),
       {"fd 0", "2 sources"}},
      {"InheritAndConnectSources",
       Profile(R"(, {"fd": 3, "role": "sink", "access": "w", "inherit": true, )"
               R"("connect": "unix:$DIR/sink.sock"})"),
       {"fd 3", "2 sources"}},
      {"NonexistentInputFile",
       Profile(R"(, {"fd": 0, "role": "in", "access": "r", "open": "$DIR/missing.csv"})"),
       {"fd 0", "cannot open", "missing.csv", "must exist"}},
      {"DirectoryAsOutputFile",
       Profile(R"(, {"fd": 3, "role": "out2", "access": "w", "open": "$DIR"})"),
       {"fd 3", "cannot open", "directory"}},
      {"InheritOfClosedFd",
       Profile(R"(, {"fd": 9, "role": "in", "access": "r", "inherit": true})"),
       {"fd 9", "not open"}},
      {"InheritWriteOnReadOnlyFd",
       Profile(R"(, {"fd": 5, "role": "out2", "access": "w", "inherit": true})"),
       {"fd 5", "\"w\"", "not writable"},
       true,
       5,
       O_RDONLY},
      {"InheritAppendWithoutOAppend",
       Profile(R"(, {"fd": 5, "role": "audit", "access": "a", "inherit": true})"),
       {"fd 5", "\"a\"", "O_APPEND"},
       true,
       5,
       O_WRONLY},
      {"InheritReadWriteOnWriteOnlyFd",
       Profile(R"(, {"fd": 5, "role": "scratch", "access": "rw", "inherit": true})"),
       {"fd 5", "\"rw\"", "read-write"},
       true,
       5,
       O_WRONLY},
      {"ConnectToMissingUnixSocket",
       Profile(R"(, {"fd": 3, "role": "sink", "access": "w", "connect": "unix:$DIR/nosuch.sock"})"),
       {"fd 3", "cannot connect", "nosuch.sock"}},
      {"MalformedJson", R"({"version": 1, "name": "bad-case", "fds": [)", {"malformed JSON"}},
      {"DuplicateJsonKey",
       R"({"version": 1, "name": "a", "name": "b", "fds": [)"
       R"({"fd": 1, "role": "out", "access": "w", "inherit": true}]})",
       {"duplicate JSON key", "\"name\""}},
      {"EmptyProfileFile", "", {"malformed JSON"}},
      {"MissingProfileFile", "", {"cannot open", "profile.json"}, /*write_profile=*/false},
      {"OnViolationMaybe",
       Profile("", R"("on_violation": "maybe",)"),
       {"\"on_violation\"", "\"maybe\""}},
  };
}

// Checks the refusal contract on one run; `expect` must all be in the error line.
void ExpectRefused(const RunResult& r, const std::vector<std::string>& expect) {
  ASSERT_FALSE(r.timed_out) << "fdlaunch did not finish";
  EXPECT_EQ(r.exit_code(), kExitLaunchFailed) << "stderr: " << r.err;
  EXPECT_EQ(r.out, "") << "the workload ran";
  std::vector<std::string> other;
  std::vector<std::string> errors = ErrorLines(r, &other);
  EXPECT_TRUE(other.empty()) << "unexpected stderr lines:\n" << r.err;
  ASSERT_EQ(errors.size(), 1u) << "stderr:\n" << r.err;
  for (const std::string& s : expect) {
    EXPECT_NE(errors[0].find(s), std::string::npos)
        << "error line does not mention " << s << ": " << errors[0];
  }
}

// Keeps gtest from dumping the struct's bytes in failure messages.
void PrintTo(const BadCase& c, std::ostream* os) { *os << c.name; }

class BadProfileTest : public ::testing::TestWithParam<BadCase> {};

TEST_P(BadProfileTest, RefusedWith125AndOneErrorLineBeforeWorkloadRuns) {
  const BadCase& c = GetParam();
  TempDir dir;
  ASSERT_TRUE(dir.ok());
  ASSERT_TRUE(WriteWholeFile(dir.File("in.csv"), "id\n1\n"));
  const std::string profile_path = dir.File("profile.json");
  if (c.write_profile) {
    ASSERT_TRUE(
        WriteWholeFile(profile_path, absl::StrReplaceAll(c.profile, {{"$DIR", dir.path()}})));
  }
  std::map<int, int> fds;
  UniqueFd inherited;
  if (c.inherit_fd >= 0) {
    const std::string path = dir.File("inherited.dat");
    ASSERT_TRUE(WriteWholeFile(path, "data\n"));
    inherited = UniqueFd(open(path.c_str(), c.inherit_flags | O_CLOEXEC));
    ASSERT_TRUE(inherited);
    fds[c.inherit_fd] = inherited.get();
  }
  RunResult r = RunFdlaunch({"--profile", profile_path, "--", RanHelperPath()}, fds);
  ExpectRefused(r, c.expect);
}

INSTANTIATE_TEST_SUITE_P(Profiles, BadProfileTest, ::testing::ValuesIn(Cases()),
                         [](const ::testing::TestParamInfo<BadCase>& info) {
                           return info.param.name;
                         });

TEST(LateRefusalTest, ErrorGoesToLauncherStderrNotToDeclaredFd2) {
  // fd 2 is already the workload's audit log when fd 3 fails to connect; the
  // error still reaches the caller's stderr and stays out of the audit log.
  TempDir dir;
  ASSERT_TRUE(dir.ok());
  const std::string audit = dir.File("audit.log");
  const std::string profile = dir.File("profile.json");
  ASSERT_TRUE(WriteWholeFile(
      profile,
      absl::StrReplaceAll(
          Profile(
              R"(, {"fd": 2, "role": "audit-log", "access": "a", "open": "$DIR/audit.log"})"
              R"(, {"fd": 3, "role": "sink", "access": "w", "connect": "unix:$DIR/gone.sock"})"),
          {{"$DIR", dir.path()}})));
  RunResult r = RunFdlaunch({"--profile", profile, "--", RanHelperPath()});
  ExpectRefused(r, {"fd 3", "gone.sock"});
  std::optional<std::string> log = ReadWholeFile(audit);
  EXPECT_TRUE(!log.has_value() || log->empty()) << "audit log got: " << *log;
}

class BadProgramTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(dir_.ok());
    profile_ = dir_.File("profile.json");
    ASSERT_TRUE(WriteWholeFile(profile_, Profile("")));
  }
  RunResult Launch(const std::string& program) {
    return RunFdlaunch({"--profile", profile_, "--", program});
  }

  TempDir dir_;
  std::string profile_;
};

TEST_F(BadProgramTest, ValidProfileRunsTheHelper) {
  // The control for every refusal here: the same profile and helper do run.
  RunResult r = Launch(RanHelperPath());
  ASSERT_FALSE(r.timed_out);
  EXPECT_EQ(r.exit_code(), 42) << r.err;
  EXPECT_EQ(r.out, "RAN\n");
}

TEST_F(BadProgramTest, DynamicallyLinkedProgramIsRefused) {
  // /bin/true is dynamically linked on Debian.
  ExpectRefused(Launch("/bin/true"), {"/bin/true", "dynamically linked", "loader"});
}

TEST_F(BadProgramTest, ScriptIsRefused) {
  const std::string script = dir_.File("run.sh");
  ASSERT_TRUE(WriteWholeFile(script, "#!/bin/sh\necho RAN\n", 0755));
  ExpectRefused(Launch(script), {"run.sh", "script"});
}

TEST_F(BadProgramTest, ProgramWithFileCapabilitiesIsRefused) {
  // A copy of the helper marked "cap_net_raw+ep" (struct vfs_cap_data,
  // revision 2, effective flag): the workload runs without capabilities, so
  // such an exec would fail after the filter, where nothing can be reported.
  const std::optional<std::string> helper = ReadWholeFile(RanHelperPath());
  ASSERT_TRUE(helper.has_value());
  const std::string program = dir_.File("capable-helper");
  ASSERT_TRUE(WriteWholeFile(program, *helper, 0755));
  const uint32_t cap_data[5] = {VFS_CAP_REVISION_2 | VFS_CAP_FLAGS_EFFECTIVE, 1u << CAP_NET_RAW, 0,
                                0, 0};
  ASSERT_EQ(setxattr(program.c_str(), "security.capability", cap_data, sizeof cap_data, 0), 0)
      << strerror(errno);
  ExpectRefused(Launch(program), {"capable-helper", "file capabilities"});
  // The same bytes without the mark run.
  ASSERT_EQ(removexattr(program.c_str(), "security.capability"), 0) << strerror(errno);
  RunResult r = Launch(program);
  EXPECT_EQ(r.exit_code(), 42) << r.err;
}

TEST_F(BadProgramTest, NonexistentProgramIsRefused) {
  ExpectRefused(Launch(dir_.File("no-such-program")), {"no-such-program"});
}

}  // namespace
}  // namespace fdattest::integration
