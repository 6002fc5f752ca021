// What runs is what was hashed, even if the program file is rewritten between
// the hash and the exec: the test stops fdlaunch (ptrace) at the first syscall
// of the point of no return, after the manifest is written, rewrites the
// program file with another binary, and lets the launch go on. fdlaunch hashes
// and executes a sealed memfd copy, so the hashed program runs.
#include <gtest/gtest.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/user.h>

#include "tests/integration/launch_util.h"

namespace fdattest::integration {
namespace {

TEST(ExecSwapTest, ProgramRewrittenBetweenHashAndExecIsNotRun) {
  TempDir dir;
  const std::string prog = dir.path() + "/prog";
  auto hashed = ReadWholeFile(RanHelperPath());  // prints RAN, exits 42
  auto other = ReadWholeFile("/bin/busybox");
  ASSERT_TRUE(hashed && other);
  ASSERT_TRUE(WriteWholeFile(prog, *hashed, 0755));
  const std::string profile = dir.path() + "/profile.json";
  ASSERT_TRUE(WriteWholeFile(profile, R"({"version":1,"name":"swap","fds":[
      {"fd":1,"role":"out","access":"w","inherit":true}]})"));
  const std::string manifest = dir.path() + "/manifest.json";

  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ptrace(PTRACE_TRACEME, 0, nullptr, nullptr);
    execl(FdlaunchPath(), FdlaunchPath(), "--profile", profile.c_str(), "--manifest-out",
          manifest.c_str(), "--", prog.c_str(), static_cast<char*>(nullptr));
    _exit(99);
  }
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);  // stopped at its exec
  ASSERT_TRUE(WIFSTOPPED(status));
  ASSERT_EQ(ptrace(PTRACE_SETOPTIONS, pid, nullptr, PTRACE_O_TRACESYSGOOD | PTRACE_O_EXITKILL), 0);
  bool swapped = false;
  for (int stops = 0; stops < 100000 && !swapped; ++stops) {
    ASSERT_EQ(ptrace(PTRACE_SYSCALL, pid, nullptr, nullptr), 0);
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFSTOPPED(status)) << "fdlaunch ended before its point of no return";
    if (WSTOPSIG(status) != (SIGTRAP | 0x80)) continue;
    user_regs_struct regs{};
    ASSERT_EQ(ptrace(PTRACE_GETREGS, pid, nullptr, &regs), 0);
    if (regs.orig_rax == SYS_unshare) {  // first step of the point of no return
      ASSERT_TRUE(WriteWholeFile(prog, *other, 0755));
      swapped = true;
    }
  }
  ASSERT_TRUE(swapped);
  ASSERT_EQ(ptrace(PTRACE_DETACH, pid, nullptr, nullptr), 0);
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  // What must hold: the program that ran is the one the manifest hashed.
  Json m = LoadJsonFile(manifest);
  EXPECT_EQ(m["exe"]["sha256"], Sha256Hex(*hashed));
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 42)
      << "a program other than the hashed one ran (status " << status << ")";
}

}  // namespace
}  // namespace fdattest::integration
