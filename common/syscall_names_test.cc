// The syscall name table: the build's kernel headers and the newer entries
// agree with libseccomp's table wherever both have a number, and the running
// kernel implements every newer entry its release should have.
#include "common/syscall_names.h"

#include <errno.h>
#include <seccomp.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

#include "gtest/gtest.h"

namespace fdattest {
namespace {

TEST(SyscallNamesTest, NamesComeFromTheHeadersAndCoverNewerKernels) {
  EXPECT_EQ(SyscallName(SYS_read), "read");
  EXPECT_EQ(SyscallName(SYS_execveat), "execveat");
  EXPECT_EQ(SyscallName(462), "mseal");  // past the 6.1 headers and libseccomp 2.5
  EXPECT_EQ(SyscallName(469), "file_setattr");
  EXPECT_EQ(SyscallName(1000), "syscall_1000");  // no name: said so
  EXPECT_FALSE(KnownSyscallName(1000).has_value());
  EXPECT_EQ(SyscallNumber("openat"), SYS_openat);
  const std::vector<uint32_t>& named = NamedSyscalls();
  EXPECT_TRUE(std::is_sorted(named.begin(), named.end()));
  EXPECT_GT(named.size(), 370u);
}

TEST(SyscallNamesTest, AgreesWithLibseccompWhereBothKnowTheNumber) {
  int both = 0;
  for (uint32_t nr : NamedSyscalls()) {
    char* theirs = seccomp_syscall_resolve_num_arch(SCMP_ARCH_X86_64, static_cast<int>(nr));
    if (theirs == nullptr) continue;
    ++both;
    EXPECT_EQ(SyscallName(nr), theirs) << nr;
    free(theirs);
  }
  EXPECT_GT(both, 350);
  // ...and libseccomp names no number the table lacks.
  for (int nr = 0; nr < 1024; ++nr) {
    char* theirs = seccomp_syscall_resolve_num_arch(SCMP_ARCH_X86_64, nr);
    if (theirs == nullptr) continue;
    EXPECT_TRUE(KnownSyscallName(static_cast<uint32_t>(nr)).has_value()) << nr << " " << theirs;
    free(theirs);
  }
}

// Each newer entry the running kernel's release should have is implemented:
// called with invalid arguments it fails with anything but ENOSYS.
TEST(SyscallNamesTest, RunningKernelImplementsTheNewerEntries) {
  // A seccomp filter (a container runtime's) may answer ENOSYS itself.
  std::ifstream status("/proc/self/status");
  for (std::string line; std::getline(status, line);) {
    if (line.rfind("Seccomp:", 0) == 0 && line.back() != '0') {
      GTEST_SKIP() << "running under a seccomp filter: " << line;
    }
  }
  utsname u{};
  ASSERT_EQ(uname(&u), 0);
  int major = 0, minor = 0;
  ASSERT_EQ(sscanf(u.release, "%d.%d", &major, &minor), 2);
  struct Newer {
    uint32_t nr;
    int major, minor;
  };
  // uretprobe (335) and uprobe (336) are left out: outside a probe
  // trampoline the kernel answers them with SIGILL.
  for (Newer n : {Newer{451, 6, 5}, Newer{452, 6, 6}, Newer{454, 6, 7}, Newer{457, 6, 8},
                  Newer{458, 6, 8}, Newer{461, 6, 8}, Newer{462, 6, 10}, Newer{463, 6, 13},
                  Newer{466, 6, 13}, Newer{467, 6, 15}, Newer{468, 6, 17}, Newer{469, 6, 17}}) {
    if (major < n.major || (major == n.major && minor < n.minor)) continue;
    errno = 0;
    long r = syscall(n.nr, -1L, 0L, 0L, 0L, 0L, 0L);
    EXPECT_EQ(r, -1) << SyscallName(n.nr);
    EXPECT_NE(errno, ENOSYS) << SyscallName(n.nr) << " (" << n.nr << ") on " << u.release;
  }
  errno = 0;
  EXPECT_EQ(syscall(470 + 30, -1L, 0L, 0L, 0L, 0L, 0L), -1);
  EXPECT_EQ(errno, ENOSYS);  // the probe tells an absent number apart
}

}  // namespace
}  // namespace fdattest
