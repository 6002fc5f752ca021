// A child process for the observation tests, set up as a launcher would set
// up a workload: it waits until told to go, then puts the given descriptors
// at the given numbers, closes every other, optionally enters an empty root,
// sets no_new_privs, installs the given seccomp filters in order and execs
// the static observed_workload (by an fd, execveat). Its parent learns the
// exec happened from a close-on-exec pipe reaching EOF. Test-only; the child
// runs async-signal-safe calls only between fork and exec (plus
// EnterEmptyRoot when asked, which the launcher runs there too).
#ifndef FDATTEST_TESTS_SUPPORT_HELD_CHILD_H_
#define FDATTEST_TESTS_SUPPORT_HELD_CHILD_H_

#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/status.h"
#include "common/unique_fd.h"

namespace fdattest::testing {

// The raw bytes of a filter of `insns`.
inline std::string FilterBytes(const std::vector<sock_filter>& insns) {
  return std::string(reinterpret_cast<const char*>(insns.data()), insns.size() * sizeof(sock_filter));
}
// Two different filters that allow everything.
inline std::string AllowAllFilter() {
  return FilterBytes({BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW)});
}
inline std::string AllowAllAfterALoad() {
  return FilterBytes({BPF_STMT(BPF_LD | BPF_W | BPF_ABS, 4),
                      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW)});
}

struct ChildSetup {
  std::string program;                  // the static program to exec
  std::vector<std::string> filters;     // raw sock_filter bytes, installed in order
  std::vector<std::pair<int, int>> fds;  // {number in the child, parent's fd}
  bool no_new_privs = true;
  // Called in the child after its fds are in place, before no_new_privs and
  // the filters (e.g. EnterEmptyRoot); returns false on failure.
  bool (*before_filters)() = nullptr;
};

class HeldChild {
 public:
  static absl::StatusOr<HeldChild> Fork(const ChildSetup& setup) {
    UniqueFd exe(open(setup.program.c_str(), O_PATH | O_CLOEXEC));
    if (!exe) return ErrnoStatus(absl::StrCat("open ", setup.program), errno);
    int go[2], exec[2];
    if (pipe2(go, O_CLOEXEC) != 0 || pipe2(exec, O_CLOEXEC) != 0) return ErrnoStatus("pipe", errno);
    pid_t pid = fork();
    if (pid < 0) return ErrnoStatus("fork", errno);
    if (pid == 0) RunChild(setup, exe.get(), go[0], exec[1]);
    close(go[0]);
    close(exec[1]);
    HeldChild child;
    child.pid_ = pid;
    child.go_ = UniqueFd(go[1]);
    child.exec_ = UniqueFd(exec[0]);
    return child;
  }

  HeldChild() = default;
  HeldChild(HeldChild&& o) noexcept
      : pid_(std::exchange(o.pid_, 0)), go_(std::move(o.go_)), exec_(std::move(o.exec_)) {}
  HeldChild& operator=(HeldChild&& o) noexcept {
    if (this != &o) {
      KillAndReap();
      pid_ = std::exchange(o.pid_, 0);
      go_ = std::move(o.go_);
      exec_ = std::move(o.exec_);
    }
    return *this;
  }
  ~HeldChild() { KillAndReap(); }
  void KillAndReap() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      Reap();
    }
  }

  pid_t pid() const { return pid_; }
  // Lets the child go on to its exec.
  absl::Status Go() {
    char c = 'g';
    if (write(go_.get(), &c, 1) != 1) return ErrnoStatus("write go", errno);
    go_.reset();
    return absl::OkStatus();
  }
  // Blocks until the child exec'd (true) or died before (false).
  bool WaitExecuted() {
    char c;
    ssize_t n;
    do {
      n = read(exec_.get(), &c, 1);
    } while (n < 0 && errno == EINTR);
    return n == 0;
  }
  // Waits up to `timeout` for the child's end: its wait status, or nullopt
  // while it still runs (it is then left as it is).
  std::optional<int> ReapWithin(std::chrono::milliseconds timeout) {
    const auto end = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      int status = 0;
      pid_t r = waitpid(pid_, &status, WNOHANG);
      if (r == pid_) {
        pid_ = 0;
        return status;
      }
      if (r < 0 && errno != EINTR) return std::nullopt;
      if (std::chrono::steady_clock::now() > end) return std::nullopt;
      usleep(2000);
    }
  }
  // Waits for the child's end: its wait status.
  int Reap() {
    int status = 0;
    while (waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
    pid_ = 0;
    return status;
  }

 private:
  [[noreturn]] static void RunChild(const ChildSetup& setup, int exe, int go, int exec_done) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    char c;
    if (read(go, &c, 1) != 1) _exit(120);
    // Out of the way of every target number first, then into place.
    constexpr int kHigh = 900;
    if (dup3(exe, kHigh, O_CLOEXEC) < 0 || dup3(exec_done, kHigh + 1, O_CLOEXEC) < 0) _exit(121);
    for (size_t i = 0; i < setup.fds.size(); ++i) {
      if (dup3(setup.fds[i].second, kHigh + 2 + static_cast<int>(i), O_CLOEXEC) < 0) _exit(122);
    }
    // Every low number closed (whatever this process inherited, gaps
    // between the targets included), then the targets filled.
    if (syscall(SYS_close_range, 0, kHigh - 1, 0) != 0) _exit(123);
    for (size_t i = 0; i < setup.fds.size(); ++i) {
      if (dup2(kHigh + 2 + static_cast<int>(i), setup.fds[i].first) < 0) _exit(123);
    }
    syscall(SYS_close_range, kHigh + 2, ~0U, 0);
    if (setup.before_filters != nullptr && !setup.before_filters()) _exit(124);
    if (setup.no_new_privs && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) _exit(125);
    for (const std::string& f : setup.filters) {
      sock_fprog prog{static_cast<unsigned short>(f.size() / sizeof(sock_filter)),
                      reinterpret_cast<sock_filter*>(const_cast<char*>(f.data()))};
      if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) != 0) _exit(126);
    }
    char* const argv[] = {const_cast<char*>("observed_workload"), nullptr};
    char* const envp[] = {nullptr};
    syscall(SYS_execveat, kHigh, "", argv, envp, AT_EMPTY_PATH);
    _exit(127);
  }

  pid_t pid_ = 0;
  UniqueFd go_;
  UniqueFd exec_;
};

}  // namespace fdattest::testing

#endif  // FDATTEST_TESTS_SUPPORT_HELD_CHILD_H_
