// The command line every binary shares (common/command_line.h), run on the
// built fdlaunch, fdattestd and fdattest: --version prints the build id an
// EAR carries, --help lists the exit statuses and defaults, an unknown option
// is named (not reported as a missing required one) and ends with the usage
// status each binary documents, and fdlaunch prints a warning only when the
// launch goes on.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cctype>
#include <optional>
#include <string>
#include <vector>

#include "common/build_info.h"
#include "tests/integration/launch_util.h"

namespace fdattest::integration {
namespace {

using ::testing::HasSubstr;
using ::testing::MatchesRegex;
using ::testing::Not;

struct Binary {
  std::string name;
  std::string path;
  int usage_exit;  // docs/launcher.md, docs/attestor.md, docs/verifier-cli.md
  std::vector<std::string> help_mentions;  // exit statuses and defaults
  std::string doc;                         // under docs/
};

void PrintTo(const Binary& b, std::ostream* os) { *os << b.name; }

std::vector<Binary> Binaries() {
  return {
      {"fdlaunch", FdlaunchPath(), kExitLaunchFailed,
       {"Exit status", "125", "126", "SIGSYS", "the workload's own", "(default: random)"},
       "launcher.md"},
      {"fdattestd", FDATTEST_FDATTESTD, 2,
       {"Exit status", "0  stopped by SIGTERM", "2  usage error", "default nv:0x01bfda00",
        "default: 0 alone"},
       "attestor.md"},
      {"fdattest", FDATTEST_FDATTEST, 4,
       {"Exit status", "0 affirming", "1 warning", "2 contraindicated", "3 broken evidence",
        "4 usage"},
       "verifier-cli.md"},
  };
}

class CliTest : public ::testing::TestWithParam<Binary> {};

TEST_P(CliTest, VersionPrintsTheBuildIdOfTheEar) {
  RunResult r = RunProgram({GetParam().path, "--version"});
  EXPECT_EQ(r.exit_code(), 0) << r.err;
  EXPECT_EQ(r.out, BuildId() + "\n");
  EXPECT_THAT(r.out, MatchesRegex("fdattest [0-9]+\\.[0-9]+\\.[0-9]+ \\(git ([0-9a-f]{40}(-dirty)?|"
                                  "unknown)\\)\n"));
  EXPECT_EQ(r.err, "");
}

TEST_P(CliTest, HelpListsExitStatusesAndDefaults) {
  RunResult r = RunProgram({GetParam().path, "--help"});
  EXPECT_EQ(r.exit_code(), 0) << r.err;
  for (const std::string& mention : GetParam().help_mentions) {
    EXPECT_THAT(r.out, HasSubstr(mention));
  }
  EXPECT_THAT(r.out, HasSubstr("--version"));
}

TEST_P(CliTest, UnknownOptionIsNamedWithTheUsageStatus) {
  RunResult r = RunProgram({GetParam().path, "--bogus"});
  EXPECT_EQ(r.exit_code(), GetParam().usage_exit) << r.err;
  EXPECT_THAT(r.err, HasSubstr("unknown option --bogus"));
  EXPECT_THAT(r.err, Not(HasSubstr("required")));
  EXPECT_EQ(r.ErrLines().size(), 1u) << r.err;
  EXPECT_EQ(r.out, "");
}

TEST_P(CliTest, UnknownOptionAmongValidOnesIsNamed) {
  std::vector<std::string> argv = {GetParam().path};
  if (GetParam().name == "fdlaunch") {
    argv.insert(argv.end(), {"--profile", "p.json", "--bogus", "--", kBusybox, "true"});
  } else if (GetParam().name == "fdattestd") {
    argv.insert(argv.end(), {"--socket", "s", "--bogus", "--state-dir", "d"});
  } else {
    argv.insert(argv.end(), {"verify", "evidence.json", "--policy", "p.json", "--bogus"});
  }
  RunResult r = RunProgram(argv);
  EXPECT_EQ(r.exit_code(), GetParam().usage_exit) << r.err;
  EXPECT_THAT(r.err, HasSubstr("unknown option --bogus"));
  EXPECT_THAT(r.err, Not(HasSubstr("required")));
}

size_t LongNameEnd(const std::string& text, size_t i) {
  while (i < text.size() && (isalnum(static_cast<unsigned char>(text[i])) || text[i] == '-')) ++i;
  return i;
}

// Whether `doc` names `option` as a whole word ("--out", not "--out-dir").
bool MentionsOption(const std::string& doc, const std::string& option) {
  for (size_t at = doc.find(option); at != std::string::npos; at = doc.find(option, at + 1)) {
    if (LongNameEnd(doc, at + 2) == at + option.size()) return true;
  }
  return false;
}

// Every option --help lists (and, for fdattest, every command) is in the
// binary's document.
TEST_P(CliTest, EveryOptionInTheHelpIsDocumented) {
  const std::string doc_path = std::string(FDATTEST_SOURCE_DIR) + "/docs/" + GetParam().doc;
  std::optional<std::string> doc = ReadWholeFile(doc_path);
  ASSERT_TRUE(doc.has_value()) << doc_path;
  std::vector<std::vector<std::string>> commands = {{}};
  if (GetParam().name == "fdattest") {
    commands = {{}, {"bpf", "explain"}, {"bpf", "check"}, {"key", "generate"},
                {"key", "public"}, {"registry", "sign"}, {"challenge"}, {"verify"}};
  }
  int options_seen = 0;
  for (const std::vector<std::string>& command : commands) {
    std::vector<std::string> argv = {GetParam().path};
    argv.insert(argv.end(), command.begin(), command.end());
    argv.push_back("--help");
    RunResult r = RunProgram(argv);
    ASSERT_EQ(r.exit_code(), 0) << r.err;
    if (!command.empty()) {
      std::string name = "fdattest";
      for (const std::string& word : command) name += " " + word;
      EXPECT_THAT(*doc, HasSubstr("`" + name)) << "command not documented in " << doc_path;
    }
    // Option lines of the help start with "  -": "  --profile TEXT ...",
    // "  -h,--help ...". The long name is the first "--word" on the line.
    size_t pos = 0;
    while ((pos = r.out.find("\n  -", pos)) != std::string::npos) {
      pos += 3;
      const size_t dash = r.out.find("--", pos);
      if (dash == std::string::npos || r.out.find('\n', pos) < dash) continue;
      const std::string option = r.out.substr(dash, LongNameEnd(r.out, dash + 2) - dash);
      if (option == "--help") continue;
      ++options_seen;
      EXPECT_TRUE(MentionsOption(*doc, option)) << option << " not documented in " << doc_path;
    }
  }
  EXPECT_GT(options_seen, 1) << "the option lines of --help were not recognised";
}

INSTANTIATE_TEST_SUITE_P(Binaries, CliTest, ::testing::ValuesIn(Binaries()),
                         [](const auto& info) { return info.param.name; });

TEST(FdattestCliTest, EverySubcommandHelpListsItsExitStatuses) {
  for (const std::vector<std::string>& cmd : std::vector<std::vector<std::string>>{
           {"verify"}, {"challenge"}, {"bpf", "explain"}, {"bpf", "check"},
           {"key", "generate"}, {"key", "public"}, {"registry", "sign"}}) {
    std::vector<std::string> argv = {FDATTEST_FDATTEST};
    argv.insert(argv.end(), cmd.begin(), cmd.end());
    argv.push_back("--help");
    RunResult r = RunProgram(argv);
    EXPECT_EQ(r.exit_code(), 0) << cmd[0] << r.err;
    EXPECT_THAT(r.out, HasSubstr("Exit status: 0")) << cmd[0];
  }
  RunResult challenge = RunProgram({FDATTEST_FDATTEST, "challenge", "--help"});
  EXPECT_THAT(challenge.out, HasSubstr("=300"));  // the nonce lifetime's default
  RunResult verify = RunProgram({FDATTEST_FDATTEST, "verify", "--help"});
  EXPECT_THAT(verify.out, HasSubstr("=3600"));  // the EAR lifetime's default
}

// A launch refused after the profile has been read (here: a dynamically
// linked program) says only why: the unattested warning is for launches that
// go on.
TEST(FdlaunchCliTest, RefusedLaunchPrintsNoWarning) {
  TempDir dir;
  ASSERT_TRUE(dir.ok());
  const std::string profile = dir.File("profile.json");
  ASSERT_TRUE(WriteWholeFile(profile, R"({"version": 1, "name": "empty", "fds": []})"));
  RunResult refused = RunFdlaunch({"--profile", profile, "--", "/bin/true"});
  EXPECT_EQ(refused.exit_code(), kExitLaunchFailed) << refused.err;
  ASSERT_EQ(refused.ErrLines().size(), 1u) << refused.err;
  EXPECT_THAT(refused.err, MatchesRegex("fdlaunch: error: [^\n]*\n"));

  RunResult ran = RunFdlaunch({"--profile", profile, "--", kBusybox, "true"});
  EXPECT_EQ(ran.exit_code(), 0) << ran.err;
  EXPECT_EQ(ran.err, "fdlaunch: warning: no attestor configured: this launch is unattested\n");
}

}  // namespace
}  // namespace fdattest::integration
