#include "launcher/observed_exec.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include "absl/strings/str_cat.h"

namespace fdattest {
namespace {

inline constexpr int kExitChildFailed = 125;
constexpr auto kReapTimeout = std::chrono::seconds(5);

using Clock = std::chrono::steady_clock;

int MillisLeft(Clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  return left.count() <= 0 ? 0 : static_cast<int>(std::min<int64_t>(left.count(), 1 << 30));
}

// The pidfd signals are forwarded through (a signal handler reads it).
volatile sig_atomic_t forward_pidfd = -1;

void Forward(int sig) {
  const int saved = errno;
  if (forward_pidfd >= 0) syscall(SYS_pidfd_send_signal, forward_pidfd, sig, nullptr, 0);
  errno = saved;
}

void WriteAll(int fd, absl::string_view data) {
  while (!data.empty()) {
    ssize_t n = write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    data.remove_prefix(static_cast<size_t>(n));
  }
}

// The child between fork and exec: never returns.
[[noreturn]] void RunChild(ExecPlan plan, pid_t parent, int go, int exec_done) {
  if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) != 0 || getppid() != parent) {
    _exit(kExitChildFailed);  // the launcher is gone already
  }
  char byte = 0;
  ssize_t n;
  do {
    n = read(go, &byte, 1);
  } while (n < 0 && errno == EINTR);
  if (n != 1) _exit(kExitChildFailed);  // the launcher gave up
  plan.private_fds.insert(exec_done);
  const absl::Status failed = ExecConfined(plan);
  WriteAll(exec_done, failed.message());
  _exit(kExitChildFailed);
}

}  // namespace

absl::StatusOr<HeldWorkload> HeldWorkload::Fork(const ExecPlan& plan) {
  int go[2], done[2];
  if (pipe2(go, O_CLOEXEC) != 0) return ErrnoStatus("pipe2", errno);
  UniqueFd go_read(go[0]), go_write(go[1]);
  if (pipe2(done, O_CLOEXEC) != 0) return ErrnoStatus("pipe2", errno);
  UniqueFd done_read(done[0]), done_write(done[1]);
  const pid_t parent = getpid();
  const pid_t pid = fork();
  if (pid < 0) return ErrnoStatus("fork", errno);
  if (pid == 0) {
    go_write.reset();
    done_read.reset();
    RunChild(plan, parent, go_read.get(), done_write.get());
  }
  // The child cannot be reaped (nor its pid reused) before this process
  // waits for it, so the pid names it here.
  UniqueFd pidfd(static_cast<int>(syscall(SYS_pidfd_open, pid, 0)));
  if (!pidfd) {
    const int err = errno;
    kill(pid, SIGKILL);
    waitpid(pid, nullptr, 0);
    return ErrnoStatus("pidfd_open", err);
  }
  if (fcntl(pidfd.get(), F_SETFD, FD_CLOEXEC) != 0) return ErrnoStatus("fcntl", errno);
  return HeldWorkload(pid, std::move(pidfd), std::move(go_write), std::move(done_read));
}

HeldWorkload::~HeldWorkload() {
  if (pid_ > 0 && !reaped_) Kill();
}

absl::Status HeldWorkload::GoAndWaitForExec(std::chrono::milliseconds timeout) {
  const char byte = 'g';
  ssize_t n;
  do {
    n = write(go_.get(), &byte, 1);
  } while (n < 0 && errno == EINTR);
  go_.reset();
  if (n != 1) return ErrnoStatus("the workload's process is gone before its exec", errno);

  const auto deadline = Clock::now() + timeout;
  std::string failure;
  for (;;) {
    const int ms = MillisLeft(deadline);
    if (ms == 0) return absl::DeadlineExceededError("the workload's exec did not happen in time");
    pollfd p{.fd = exec_done_.get(), .events = POLLIN, .revents = 0};
    const int r = poll(&p, 1, ms);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return ErrnoStatus("poll", errno);
    if (r == 0) continue;
    char buf[512];
    n = read(exec_done_.get(), buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return ErrnoStatus("reading the workload's exec pipe", errno);
    if (n == 0) break;
    failure.append(buf, static_cast<size_t>(n));
  }
  exec_done_.reset();
  if (!failure.empty()) return absl::FailedPreconditionError(failure);
  // End of file also when the child died before its exec.
  pollfd p{.fd = pidfd_.get(), .events = POLLIN, .revents = 0};
  if (poll(&p, 1, 0) > 0) {
    return absl::FailedPreconditionError("the workload's process ended before its exec");
  }
  return absl::OkStatus();
}

void HeldWorkload::Kill() {
  if (reaped_ || pid_ <= 0) return;
  syscall(SYS_pidfd_send_signal, pidfd_.get(), SIGKILL, nullptr, 0);
  const auto deadline = Clock::now() + kReapTimeout;
  for (;;) {
    siginfo_t info{};
    const int r = waitid(P_PIDFD, static_cast<id_t>(pidfd_.get()), &info, WEXITED | WNOHANG);
    if (r == 0 && info.si_pid != 0) break;  // reaped
    if (r != 0 && errno != EINTR) break;    // not ours to reap (ECHILD)
    if (MillisLeft(deadline) == 0) break;   // a tracer still holds its exit: reaped at our exit
    poll(nullptr, 0, 5);
  }
  reaped_ = true;
}

int HeldWorkload::Wait() {
  forward_pidfd = pidfd_.get();
  struct sigaction forward {};
  forward.sa_handler = Forward;
  sigemptyset(&forward.sa_mask);
  constexpr int kForwarded[] = {SIGTERM, SIGINT, SIGHUP};
  struct sigaction previous[3] = {};
  for (int i = 0; i < 3; ++i) sigaction(kForwarded[i], &forward, &previous[i]);
  int status = 0;
  pid_t r;
  do {
    r = waitpid(pid_, &status, 0);
  } while (r < 0 && errno == EINTR);
  reaped_ = true;
  for (int i = 0; i < 3; ++i) sigaction(kForwarded[i], &previous[i], nullptr);
  forward_pidfd = -1;
  if (r != pid_) return kExitChildFailed;
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return kExitChildFailed;
}

}  // namespace fdattest
