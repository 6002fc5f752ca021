// DropCapabilitiesForExec: a program exec'd afterwards holds no capability
// even as uid 0, and a caller that cannot empty the bounding set is refused.
// Each case runs in a forked child: the test process keeps its own sets.
#include "launcher/capabilities.h"

#include <fcntl.h>
#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <map>
#include <sstream>
#include <string>

#include "common/unique_fd.h"
#include "gtest/gtest.h"

namespace fdattest {
namespace {

constexpr int kOk = 0;
constexpr int kRefused = 3;
constexpr int kOtherError = 4;
constexpr int kExecFailed = 5;

using CapSets = __user_cap_data_struct[_LINUX_CAPABILITY_U32S_3];

bool ReadOwnCaps(CapSets& d) {
  __user_cap_header_struct h{.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
  return syscall(SYS_capget, &h, d) == 0;
}

// Reads this process's capability sets, lets `change` edit them, writes them
// back. Returns false if either syscall fails.
template <typename Change>
bool EditOwnCaps(Change change) {
  CapSets d = {};
  if (!ReadOwnCaps(d)) return false;
  change(d);
  __user_cap_header_struct h{.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
  return syscall(SYS_capset, &h, d) == 0;
}

bool RunsAsRootWithSetpcap() {
  CapSets d = {};
  return geteuid() == 0 && ReadOwnCaps(d) && (d[0].effective & (1u << CAP_SETPCAP)) != 0;
}

// Forks; the child runs `before`, then DropCapabilitiesForExec(), and on
// success execs `cat /proc/self/status` with stdout to a pipe. Returns the
// child's exit status and what it printed.
std::pair<int, std::string> DropThenExec(void (*before)()) {
  int p[2];
  EXPECT_EQ(pipe2(p, O_CLOEXEC), 0);
  UniqueFd read_end(p[0]), write_end(p[1]);
  pid_t pid = fork();
  if (pid == 0) {
    before();
    absl::Status s = DropCapabilitiesForExec();
    if (!s.ok()) {
      bool refused = s.code() == absl::StatusCode::kFailedPrecondition &&
                     std::string(s.message()).find("CAP_SETPCAP") != std::string::npos;
      _exit(refused ? kRefused : kOtherError);
    }
    if (dup2(write_end.get(), 1) != 1) _exit(kExecFailed);
    execl("/bin/cat", "cat", "/proc/self/status", static_cast<char*>(nullptr));
    _exit(kExecFailed);
  }
  write_end.reset();
  std::string out;
  char buf[4096];
  ssize_t n;
  while ((n = read(read_end.get(), buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
  int status = 0;
  EXPECT_EQ(waitpid(pid, &status, 0), pid);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status), out};
}

std::map<std::string, std::string> CapLines(const std::string& status) {
  std::map<std::string, std::string> caps;
  std::istringstream in(status);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("Cap", 0) != 0 && line.rfind("Uid", 0) != 0) continue;
    size_t colon = line.find(':');
    size_t value = line.find_first_not_of(" \t", colon + 1);
    caps[line.substr(0, colon)] = line.substr(value);
  }
  return caps;
}

TEST(CapabilitiesTest, ProgramExecdAfterwardsHoldsNoCapabilityAsRoot) {
  if (!RunsAsRootWithSetpcap()) GTEST_SKIP() << "needs root with CAP_SETPCAP";
  auto [code, out] = DropThenExec([] {});
  ASSERT_EQ(code, kOk) << out;
  auto caps = CapLines(out);
  EXPECT_EQ(caps["Uid"].substr(0, 1), "0") << "the program still runs as root";
  for (const char* set : {"CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"}) {
    EXPECT_EQ(caps[set], "0000000000000000") << set;
  }
}

TEST(CapabilitiesTest, InheritableAndAmbientCapabilitiesDoNotSurvive) {
  if (!RunsAsRootWithSetpcap()) GTEST_SKIP() << "needs root with CAP_SETPCAP";
  // A caller that raised CAP_NET_RAW as inheritable and ambient first.
  auto [code, out] = DropThenExec([] {
    if (!EditOwnCaps([](__user_cap_data_struct* d) { d[0].inheritable |= 1u << CAP_NET_RAW; }) ||
        prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_NET_RAW, 0, 0) != 0) {
      _exit(kOtherError);
    }
  });
  ASSERT_EQ(code, kOk) << out;
  auto caps = CapLines(out);
  for (const char* set : {"CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"}) {
    EXPECT_EQ(caps[set], "0000000000000000") << set;
  }
}

TEST(CapabilitiesTest, RefusedWithoutCapSetpcapWhileTheBoundingSetIsFull) {
  if (!RunsAsRootWithSetpcap()) GTEST_SKIP() << "needs root with CAP_SETPCAP";
  // Lose CAP_SETPCAP from the effective set only: the bounding set is full.
  auto [code, out] = DropThenExec([] {
    if (!EditOwnCaps([](__user_cap_data_struct* d) { d[0].effective &= ~(1u << CAP_SETPCAP); })) {
      _exit(kOtherError);
    }
  });
  EXPECT_EQ(code, kRefused) << out;
}

TEST(CapabilitiesTest, WithoutCapSetpcapAnAlreadyEmptyBoundingSetIsAccepted) {
  if (!RunsAsRootWithSetpcap()) GTEST_SKIP() << "needs root with CAP_SETPCAP";
  // Empty the bounding set while CAP_SETPCAP is still effective, then lose it:
  // every drop is EPERM now, and each capability is found already gone.
  auto [code, out] = DropThenExec([] {
    for (int cap = 0; prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) == 0; ++cap) {
    }
    if (!EditOwnCaps([](__user_cap_data_struct* d) { d[0].effective &= ~(1u << CAP_SETPCAP); })) {
      _exit(kOtherError);
    }
  });
  ASSERT_EQ(code, kOk) << out;
  EXPECT_EQ(CapLines(out)["CapBnd"], "0000000000000000");
}

}  // namespace
}  // namespace fdattest
