// Installs CompileFilter's output in forked children on the real kernel and
// checks the answer to each probe syscall (errno, success, or SIGSYS).
#include "launcher/filter.h"

#include <fcntl.h>
#include <linux/sched.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "gtest/gtest.h"
#include "tests/support/ia32.h"

#ifndef RWF_NOAPPEND
#define RWF_NOAPPEND 0x00000020
#endif

namespace fdattest {
namespace {

// Descriptor layout every probe child sets up before installing the filter.
constexpr int kReadFd = 3;    // pipe read end, declared r
constexpr int kWriteFd = 4;   // /dev/null, declared w
constexpr int kAppendFd = 5;  // temp file O_APPEND, declared a
constexpr int kReportFd = 6;  // result channel to the parent, declared w
constexpr int kForeignFd = 7;  // open in the child but undeclared
constexpr uint64_t kHi = 1ULL << 32;

struct Outcome {
  bool killed_by_sigsys = false;
  long ret = 0;
  int err = 0;
};

using ProbeFn = long (*)();

FilterSpec DefaultSpec(OnViolation mode = OnViolation::kErrno) {
  return FilterSpec{.fds = {{kReadFd, Access::kRead},
                            {kWriteFd, Access::kWrite},
                            {kAppendFd, Access::kAppend},
                            {kReportFd, Access::kWrite}},
                    .on_violation = mode,
                    .exec_fd = -1};
}

// Moves `fd` above the probe layout so the dup2 calls below cannot clobber it.
int High(int fd) {
  int moved = fcntl(fd, F_DUPFD_CLOEXEC, 20);
  close(fd);
  return moved;
}

Outcome RunProbe(const FilterSpec& spec_in, ProbeFn probe) {
  int report[2];
  EXPECT_EQ(pipe2(report, O_CLOEXEC), 0);
  report[0] = High(report[0]);
  report[1] = High(report[1]);
  pid_t pid = fork();
  if (pid == 0) {
    int data[2];
    if (pipe(data) != 0) _exit(90);
    data[0] = High(data[0]);
    data[1] = High(data[1]);
    if (write(data[1], "abc", 3) != 3) _exit(90);
    char tmpl[] = "/tmp/fdattest-filter-test-XXXXXX";
    int app = High(mkstemp(tmpl));
    if (app < 0) _exit(90);
    unlink(tmpl);
    int app_fd = High(open(("/proc/self/fd/" + std::to_string(app)).c_str(), O_WRONLY | O_APPEND));
    int null_fd = High(open("/dev/null", O_WRONLY));
    int foreign = High(open("/dev/zero", O_RDONLY));
    if (dup2(data[0], kReadFd) < 0 || dup2(null_fd, kWriteFd) < 0 || dup2(app_fd, kAppendFd) < 0 ||
        dup2(report[1], kReportFd) < 0 || dup2(foreign, kForeignFd) < 0) {
      _exit(91);
    }
    auto bpf = CompileFilter(spec_in);
    if (!bpf.ok()) _exit(92);
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) _exit(93);
    if (!InstallFilter(*bpf, 0).ok()) _exit(94);
    errno = 0;
    long ret = probe();
    long result[2] = {ret, ret < 0 ? errno : 0};
    syscall(SYS_write, kReportFd, result, sizeof(result));
    syscall(SYS_exit_group, 0);
  }
  close(report[1]);
  long result[2] = {0, 0};
  ssize_t n = read(report[0], result, sizeof(result));
  close(report[0]);
  int status = 0;
  EXPECT_EQ(waitpid(pid, &status, 0), pid);
  Outcome o;
  if (WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS) {
    o.killed_by_sigsys = true;
    return o;
  }
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "probe child status " << status;
  EXPECT_EQ(n, static_cast<ssize_t>(sizeof(result)));
  o.ret = result[0];
  o.err = static_cast<int>(result[1]);
  return o;
}

void ExpectErrno(ProbeFn probe, int err, OnViolation mode = OnViolation::kErrno) {
  Outcome o = RunProbe(DefaultSpec(mode), probe);
  EXPECT_FALSE(o.killed_by_sigsys);
  EXPECT_EQ(o.ret, -1);
  EXPECT_EQ(o.err, err) << "got " << strerror(o.err);
}

void ExpectKilled(ProbeFn probe, OnViolation mode = OnViolation::kErrno) {
  EXPECT_TRUE(RunProbe(DefaultSpec(mode), probe).killed_by_sigsys);
}

void ExpectSuccess(ProbeFn probe, long expected_ret) {
  Outcome o = RunProbe(DefaultSpec(), probe);
  EXPECT_FALSE(o.killed_by_sigsys);
  EXPECT_EQ(o.ret, expected_ret) << "errno " << strerror(o.err);
}

char buf[16];

TEST(FilterTest, ReadAllowedOnReadableFdOnly) {
  ExpectSuccess([] { return syscall(SYS_read, kReadFd, buf, 3); }, 3);
  ExpectErrno([] { return syscall(SYS_read, kForeignFd, buf, 1); }, EBADF);
  ExpectErrno([] { return syscall(SYS_read, kWriteFd, buf, 1); }, EBADF);
  ExpectErrno([] { return syscall(SYS_pread64, kForeignFd, buf, 1, 0); }, EBADF);
}

TEST(FilterTest, FdArgumentsCompareLow32Bits) {
  // The kernel truncates fd arguments to 32 bits: hi junk on a declared fd
  // reaches that fd through the masked rules (pread64), on an undeclared one
  // it is still refused. read and write allow only the exact value.
  ExpectErrno([] { return syscall(SYS_read, kHi | kReadFd, buf, 3); }, EBADF);
  ExpectErrno([] { return syscall(SYS_write, kHi | kWriteFd, "x", 1); }, EBADF);
  ExpectSuccess([] {
    static struct iovec iov = {buf, 3};
    return syscall(SYS_readv, kHi | kReadFd, &iov, 1);
  }, 3);
  ExpectErrno([] { return syscall(SYS_read, kHi | kForeignFd, buf, 1); }, EBADF);
  ExpectErrno([] { return syscall(SYS_write, kHi | kForeignFd, "x", 1); }, EBADF);
  ExpectErrno([] { return syscall(SYS_dup2, kForeignFd, kHi | kWriteFd); }, EPERM);
}

TEST(FilterTest, WriteFamilyOnWritableFdsOnly) {
  ExpectSuccess([] { return syscall(SYS_write, kWriteFd, "x", 1); }, 1);
  ExpectSuccess([] { return syscall(SYS_write, kAppendFd, "x", 1); }, 1);
  ExpectErrno([] { return syscall(SYS_write, kReadFd, "x", 1); }, EBADF);
  ExpectErrno([] { return syscall(SYS_write, kForeignFd, "x", 1); }, EBADF);
  ExpectSuccess([] { return syscall(SYS_pwrite64, kWriteFd, "x", 1, 0); }, 1);
}

TEST(FilterTest, AppendOnlyFdCannotBeRepositioned) {
  ExpectErrno([] { return syscall(SYS_pwrite64, kAppendFd, "x", 1, 0); }, EBADF);
  ExpectErrno([] { return syscall(SYS_lseek, kAppendFd, 0, SEEK_SET); }, EPERM);
  ExpectErrno([] { return syscall(SYS_ftruncate, kAppendFd, 0); }, EPERM);
  ExpectErrno([] { return syscall(SYS_fcntl, kAppendFd, F_SETFL, 0); }, EPERM);
  static struct iovec iov = {const_cast<char*>("x"), 1};
  ExpectErrno([] { return syscall(SYS_pwritev2, kAppendFd, &iov, 1, -1, 0, RWF_NOAPPEND); }, EBADF);
  ExpectErrno([] { return syscall(SYS_pwritev2, kWriteFd, &iov, 1, 0, 0, RWF_NOAPPEND); }, EBADF);
  ExpectSuccess([] { return syscall(SYS_pwritev2, kWriteFd, &iov, 1, 0, 0, 0); }, 1);
}

TEST(FilterTest, CloseOfDeclaredFdIsAbsorbed) {
  // close returns 0 but the descriptor stays open.
  ExpectSuccess([] {
    long r = syscall(SYS_close, kReadFd);
    return r == 0 ? syscall(SYS_fcntl, kReadFd, F_GETFD) : -100L;
  }, 0);
  ExpectErrno([] { return syscall(SYS_close, kForeignFd); }, EBADF);
  ExpectErrno([] { return syscall(SYS_close_range, 0, ~0U, 0); }, EPERM);
}

TEST(FilterTest, FdReplacementRefused) {
  ExpectErrno([] { return syscall(SYS_dup, kReadFd); }, EPERM);
  ExpectErrno([] { return syscall(SYS_dup2, kForeignFd, kWriteFd); }, EPERM);
  ExpectErrno([] { return syscall(SYS_dup3, kForeignFd, kWriteFd, 0); }, EPERM);
  ExpectErrno([] { return syscall(SYS_fcntl, kReadFd, F_DUPFD, 0); }, EPERM);
  ExpectErrno([] { return syscall(SYS_fcntl, kReadFd, F_SETFD, FD_CLOEXEC); }, EPERM);
  ExpectSuccess([] { return syscall(SYS_fcntl, kReadFd, F_GETFD); }, 0);
}

TEST(FilterTest, IoctlByCommandAllowlist) {
  ExpectSuccess([] {
    int n = -1;
    long r = syscall(SYS_ioctl, kReadFd, FIONREAD, &n);
    return r == 0 ? static_cast<long>(n) : -100L;
  }, 3);
  ExpectSuccess([] {
    int n = -1;
    long r = syscall(SYS_ioctl, kReadFd, kHi | FIONREAD, &n);
    return r == 0 ? static_cast<long>(n) : -100L;
  }, 3);
  ExpectErrno([] { return syscall(SYS_ioctl, kReadFd, TIOCSTI, "x"); }, ENOTTY);
  ExpectErrno([] { return syscall(SYS_ioctl, kReadFd, FIOCLEX); }, ENOTTY);
  ExpectErrno([] { return syscall(SYS_ioctl, kForeignFd, FIONREAD, buf); }, ENOTTY);
}

TEST(FilterTest, FdCreationRefused) {
  ExpectErrno([] { return syscall(SYS_openat, AT_FDCWD, "/etc/hostname", O_RDONLY); }, EPERM);
  ExpectErrno([] { return syscall(SYS_open, "/proc/self/fd/3", O_RDONLY); }, EPERM);
  ExpectErrno([] { return syscall(SYS_socket, AF_UNIX, SOCK_STREAM, 0); }, EPERM);
  ExpectErrno([] { return syscall(SYS_memfd_create, "x", 0); }, EPERM);
  ExpectErrno([] { return syscall(SYS_pipe2, buf, 0); }, EPERM);
  ExpectErrno([] { return syscall(SYS_io_uring_setup, 8, buf); }, EPERM);
  ExpectErrno([] { return syscall(SYS_pidfd_open, getpid(), 0); }, EPERM);
}

TEST(FilterTest, ProcessRulesChecked) {
  ExpectErrno([] { return syscall(SYS_clone3, nullptr, 0); }, ENOSYS);
  ExpectErrno([] { return syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, 0, 0, 0, 0); }, EPERM);
  ExpectErrno([] { return syscall(SYS_clone, CLONE_PIDFD | SIGCHLD, 0, buf, 0, 0); }, EPERM);
  ExpectErrno([] { return syscall(SYS_execve, "/bin/true", nullptr, nullptr); }, EPERM);
  ExpectErrno([] { return syscall(SYS_ptrace, 0 /*PTRACE_TRACEME*/, 0, 0, 0); }, EPERM);
  ExpectErrno([] { return syscall(SYS_prctl, PR_SET_SECCOMP, 2, 0, 0, 0); }, EPERM);
  ExpectErrno([] { return syscall(SYS_kill, 1, 0); }, EPERM);
  ExpectErrno([] { return syscall(SYS_kill, getpid(), 0); }, EPERM);
  ExpectErrno([] { return syscall(SYS_tgkill, getpid(), getpid(), SIGABRT); }, EPERM);
  ExpectSuccess([] { return syscall(SYS_prctl, PR_GET_NAME, buf, 0, 0, 0); }, 0);
  ExpectErrno([] { return syscall(SYS_prctl, PR_SET_NAME, "leak", 0, 0, 0); }, EPERM);
  ExpectSuccess([] { return syscall(SYS_prlimit64, 0, RLIMIT_CORE, nullptr, buf); }, 0);
  ExpectErrno([] { return syscall(SYS_prlimit64, 0, RLIMIT_CORE, buf, nullptr); }, EPERM);
  ExpectErrno([] { return syscall(SYS_prlimit64, 1, RLIMIT_CORE, nullptr, buf); }, EPERM);
}

TEST(FilterTest, MmapOnlyAnonymousOrReadable) {
  ExpectSuccess([] {
    void* p = mmap(nullptr, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    return p == MAP_FAILED ? -1L : 0L;
  }, 0);
  ExpectErrno([] { return syscall(SYS_mmap, 0, 4096, PROT_READ, MAP_PRIVATE, kForeignFd, 0); }, EBADF);
  ExpectErrno([] { return syscall(SYS_mmap, 0, 4096, PROT_READ, MAP_SHARED, kAppendFd, 0); }, EBADF);
}

TEST(FilterTest, ZeroCopyMoversCheckEveryFd) {
  ExpectErrno([] { return syscall(SYS_sendfile, kWriteFd, kForeignFd, 0, 1); }, EBADF);
  ExpectErrno([] { return syscall(SYS_sendfile, kForeignFd, kReadFd, 0, 1); }, EBADF);
  ExpectErrno([] { return syscall(SYS_splice, kForeignFd, 0, kWriteFd, 0, 1, 0); }, EBADF);
  ExpectErrno([] { return syscall(SYS_copy_file_range, kReadFd, 0, kForeignFd, 0, 1, 0); }, EBADF);
  ExpectSuccess([] { return syscall(SYS_splice, kReadFd, 0, kWriteFd, 0, 3, 0); }, 3);
}

TEST(FilterTest, X32AbiIsKilled) {
  ExpectKilled([] { return syscall(0x40000000 | SYS_write, kWriteFd, "x", 1); });
}

TEST(FilterTest, I386AbiIsKilled) {
  if (!testing::HasIa32Emulation()) GTEST_SKIP() << testing::kNoIa32Emulation;
  ExpectKilled([] {
    long ret;
    // i386 dup2(7, 4) through the compat entry point.
    asm volatile("int $0x80" : "=a"(ret) : "a"(63), "b"(kForeignFd), "c"(kWriteFd) : "memory");
    return ret;
  });
}

TEST(FilterTest, KillModeKillsEveryRefusal) {
  ExpectKilled([] { return syscall(SYS_read, kForeignFd, buf, 1); }, OnViolation::kKill);
  ExpectKilled([] { return syscall(SYS_openat, AT_FDCWD, "/", O_RDONLY); }, OnViolation::kKill);
  ExpectKilled([] { return syscall(SYS_ioctl, kReadFd, TIOCSTI, "x"); }, OnViolation::kKill);
  // clone3's ENOSYS is a compatibility answer, not a refusal.
  ExpectErrno([] { return syscall(SYS_clone3, nullptr, 0); }, ENOSYS, OnViolation::kKill);
}

TEST(FilterTest, RejectsBadSpecs) {
  EXPECT_FALSE(CompileFilter({.fds = {{3, Access::kRead}, {3, Access::kWrite}}}).ok());
  EXPECT_FALSE(CompileFilter({.fds = {{-1, Access::kRead}}}).ok());
  EXPECT_FALSE(CompileFilter({.fds = {{3, Access::kRead}}, .exec_fd = 3}).ok());
}

TEST(FilterTest, OutputIsDeterministicAndProfileDependent) {
  auto a = CompileFilter(DefaultSpec());
  auto b = CompileFilter(DefaultSpec());
  FilterSpec other = DefaultSpec();
  other.fds.push_back({9, Access::kRead});
  auto c = CompileFilter(other);
  ASSERT_TRUE(a.ok() && b.ok() && c.ok());
  EXPECT_EQ(*a, *b);
  EXPECT_NE(*a, *c);
  EXPECT_EQ(a->size() % 8, 0u);
}

}  // namespace
}  // namespace fdattest

namespace fdattest {
namespace {

TEST(FilterScaleTest, LargestProfileCompilesAndProvesWithinLimits) {
  FilterSpec spec{.exec_fd = 40};
  for (int fd = 0; fd < static_cast<int>(kMaxDeclaredFds); ++fd) {
    spec.fds.push_back({fd, static_cast<Access>(fd % 4)});
  }
  auto bpf = CompileFilter(spec);
  ASSERT_TRUE(bpf.ok()) << bpf.status();
  EXPECT_LE(bpf->size() / 8, 4096u);
}

TEST(FilterScaleTest, MoversRefusedBeyondThePairBudget) {
  // 5 readable x 4 writable = 20 pairs > 16: sendfile is refused outright.
  FilterSpec spec{.exec_fd = -1};
  for (int fd = 3; fd < 8; ++fd) spec.fds.push_back({fd, Access::kRead});
  for (int fd = 8; fd < 12; ++fd) spec.fds.push_back({fd, Access::kWrite});
  int report[2];
  ASSERT_EQ(pipe(report), 0);
  auto bpf = CompileFilter(spec);
  ASSERT_TRUE(bpf.ok());
  pid_t pid = fork();
  if (pid == 0) {
    prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
    if (dup2(report[1], 8) != 8 || !InstallFilter(*bpf, 0).ok()) _exit(90);
    long r = syscall(SYS_sendfile, 8, 3, 0, 1);
    long result[2] = {r, r < 0 ? errno : 0};
    syscall(SYS_write, 8, result, sizeof(result));
    syscall(SYS_exit_group, 0);
  }
  close(report[1]);
  long result[2] = {0, 0};
  ASSERT_EQ(read(report[0], result, sizeof(result)), static_cast<ssize_t>(sizeof(result)));
  close(report[0]);
  int status;
  waitpid(pid, &status, 0);
  EXPECT_EQ(result[0], -1);
  EXPECT_EQ(result[1], EBADF);
}

}  // namespace
}  // namespace fdattest
