// The dumper against filters whose bytes are known (made by libseccomp in
// known_filter_helper.cc, exported before loading), and against a real
// program from a Debian package (man-db's `man`, which confines its filters
// with libseccomp). Needs root: PTRACE_SECCOMP_GET_FILTER requires CAP_SYS_ADMIN.
#include "tests/analyzer/foreign/seccomp_dumper.h"

#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "common/bpf.h"
#include "common/file_io.h"
#include "common/json.h"
#include "common/sha256.h"
#include "gtest/gtest.h"

namespace fdattest::foreign {
namespace {

class SeccompDumperTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(geteuid(), 0u) << "reading filters needs CAP_SYS_ADMIN: run as root";
    std::string tmpl = ::testing::TempDir() + "seccomp_dump_XXXXXX";
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }

  std::string Read(const std::string& path) {
    auto bytes = ReadFileLimited(path, 1 << 20);
    EXPECT_TRUE(bytes.ok()) << bytes.status();
    return bytes.ok() ? *bytes : "";
  }

  DumpResult Dump(const std::string& mode, int timeout = 30, bool after_install = false) {
    DumpOptions options;
    options.argv = {KNOWN_FILTER_HELPER, mode, dir_ + "/known"};
    options.timeout_seconds = timeout;
    options.after_each_install = after_install;
    auto result = DumpFilters(options);
    EXPECT_TRUE(result.ok()) << result.status();
    return result.ok() ? *std::move(result) : DumpResult{};
  }

  std::string dir_;
};

TEST_F(SeccompDumperTest, DumpIsByteEqualToTheFilterLoaded) {
  DumpResult r = Dump("single");
  ASSERT_TRUE(r.root_ended);
  ASSERT_TRUE(WIFEXITED(r.root_wait_status) && WEXITSTATUS(r.root_wait_status) == 0);
  EXPECT_FALSE(r.timed_out);
  ASSERT_EQ(r.filters.size(), 1u);
  std::string loaded = Read(dir_ + "/known.0.bpf");
  ASSERT_FALSE(loaded.empty());
  EXPECT_EQ(r.filters[0].bytes, loaded);
  EXPECT_EQ(r.filters[0].sha256_hex, HexEncode(Sha256(loaded)));
  EXPECT_EQ(r.filters[0].instructions, loaded.size() / 8);
  EXPECT_EQ(r.filters[0].first.index, 0);
  EXPECT_EQ(r.filters[0].first.depth, 1);
  EXPECT_EQ(r.filters[0].first.exe, KNOWN_FILTER_HELPER);
  // The project's reader accepts what libseccomp made.
  EXPECT_TRUE(BpfProgram::Decode(r.filters[0].bytes).ok());
}

TEST_F(SeccompDumperTest, StackIsNumberedOldestFirst) {
  DumpResult r = Dump("stack");
  ASSERT_EQ(r.filters.size(), 2u);
  std::string first_loaded = Read(dir_ + "/known.0.bpf");
  std::string second_loaded = Read(dir_ + "/known.1.bpf");
  ASSERT_NE(first_loaded, second_loaded);
  // Read at the exit stop, where both are installed. Index 0 is the oldest
  // (whatever ptrace(2) says: the kernel counts from the first installed).
  std::set<std::string> dumped{r.filters[0].bytes, r.filters[1].bytes};
  EXPECT_EQ(dumped, (std::set<std::string>{first_loaded, second_loaded}));
  ASSERT_FALSE(r.stacks.empty());
  const std::vector<int>& full = r.stacks.back();
  ASSERT_EQ(full.size(), 2u);
  EXPECT_EQ(r.filters[static_cast<size_t>(full[0])].bytes, first_loaded);
  EXPECT_EQ(r.filters[static_cast<size_t>(full[1])].bytes, second_loaded);
}

TEST_F(SeccompDumperTest, FollowsForkedChildren) {
  DumpResult r = Dump("fork");
  ASSERT_TRUE(r.root_ended);
  ASSERT_TRUE(WIFEXITED(r.root_wait_status) && WEXITSTATUS(r.root_wait_status) == 0);
  EXPECT_GE(r.processes_traced, 4);
  std::set<std::string> loaded, dumped;
  for (int k = 0; k < 3; ++k) loaded.insert(Read(dir_ + "/known." + std::to_string(k) + ".bpf"));
  ASSERT_EQ(loaded.size(), 3u);
  for (const DumpedFilter& f : r.filters) dumped.insert(f.bytes);
  EXPECT_EQ(dumped, loaded);
}

TEST_F(SeccompDumperTest, TimeoutReadsLiveProcessesThenKillsThemAll) {
  DumpResult r = Dump("hang", /*timeout=*/2);
  EXPECT_TRUE(r.timed_out);
  ASSERT_EQ(r.filters.size(), 1u);
  EXPECT_EQ(r.filters[0].bytes, Read(dir_ + "/known.0.bpf"));
  EXPECT_EQ(r.filters[0].processes, 2);
  std::istringstream pids(Read(dir_ + "/known.pids"));
  pid_t parent = 0, child = 0;
  ASSERT_TRUE(pids >> parent >> child);
  for (pid_t pid : {parent, child}) {
    EXPECT_EQ(kill(pid, 0), -1) << "pid " << pid << " survived the timeout";
    EXPECT_EQ(errno, ESRCH);
  }
}

TEST_F(SeccompDumperTest, FilterOfAProcessItKillsIsReadAtInstall) {
  DumpResult r = Dump("killed", 30, /*after_install=*/true);
  ASSERT_TRUE(r.root_ended);
  EXPECT_TRUE(WIFSIGNALED(r.root_wait_status) && WTERMSIG(r.root_wait_status) == SIGSYS);
  ASSERT_EQ(r.filters.size(), 1u);
  EXPECT_EQ(r.filters[0].bytes, Read(dir_ + "/known.0.bpf"));
  EXPECT_EQ(r.filters[0].first.point, "install");
}

// Runs argv to its end; its exit status, or -1.
int RunCommand(const std::vector<std::string>& args) {
  std::vector<char*> argv;
  for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  pid_t pid = fork();
  if (pid == 0) {
    execv(argv[0], argv.data());
    _exit(127);
  }
  int status = 0;
  if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status)) return -1;
  return WEXITSTATUS(status);
}

TEST_F(SeccompDumperTest, CommandWithoutFilterExitsThree) {
  EXPECT_EQ(RunCommand({SECCOMP_DUMP, "--out", dir_, "--name", "none", "--", "/bin/true"}), 3);
  auto doc = ParseJsonStrict(Read(dir_ + "/none.json"));
  ASSERT_TRUE(doc.ok()) << doc.status();
  EXPECT_TRUE((*doc)["filters"].empty());
  EXPECT_EQ((*doc)["exit_status"], 0);
}

// man-db's `man` confines the filters it runs (preconv, nroff, ...) with
// libseccomp filters of its own. A page written here keeps the test
// independent of which manual pages are installed. Every dump is a filter the
// project's reader parses, and the sidecar describes it.
TEST_F(SeccompDumperTest, DumpsTheFiltersOfDebianMan) {
  ASSERT_TRUE(
      WriteFileAtomic(dir_ + "/page.1", ".TH PAGE 1\n.SH NAME\npage \\- a test page\n").ok());
  ASSERT_EQ(
      RunCommand({SECCOMP_DUMP, "--out", dir_, "--name", "man", "--label", "package=man-db", "--",
                  "/usr/bin/env", "MANPAGER=cat", "/usr/bin/man", "-l", dir_ + "/page.1"}),
      0);
  auto doc = ParseJsonStrict(Read(dir_ + "/man.json"));
  ASSERT_TRUE(doc.ok()) << doc.status();
  EXPECT_EQ((*doc)["labels"]["package"], "man-db");
  EXPECT_EQ((*doc)["exit_status"], 0);
  const Json& filters = (*doc)["filters"];
  ASSERT_GE(filters.size(), 1u);
  for (size_t k = 0; k < filters.size(); ++k) {
    std::string bytes = Read(dir_ + "/man." + std::to_string(k) + ".bpf");
    ASSERT_GE(bytes.size(), 8u);
    auto program = BpfProgram::Decode(bytes);
    ASSERT_TRUE(program.ok()) << program.status();
    EXPECT_EQ(program->insns().size(), bytes.size() / 8);
    EXPECT_EQ(filters[k]["sha256"], HexEncode(Sha256(bytes)));
    EXPECT_EQ(filters[k]["instructions"], bytes.size() / 8);
    EXPECT_NE(filters[k]["first_seen"]["exe"], "");
  }
}

}  // namespace
}  // namespace fdattest::foreign
