// ProbeKernelObservation (attestor/kernel_observer.h): whether this kernel
// lets the attestor read a process's seccomp filter back, tried once at start
// on a child of its own.
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "attestor/kernel_observer.h"

#ifndef PTRACE_SECCOMP_GET_FILTER
#define PTRACE_SECCOMP_GET_FILTER 0x420c
#endif

namespace fdattest {
namespace {

long Ptrace(int request, pid_t pid, unsigned long addr, void* data) {
  return ptrace(static_cast<__ptrace_request>(request), pid, addr, data);
}

std::string YamaScope() {
  UniqueFd fd(open("/proc/sys/kernel/yama/ptrace_scope", O_RDONLY | O_CLOEXEC));
  if (!fd) return "";
  char buf[8] = {};
  ssize_t n = read(fd.get(), buf, sizeof(buf) - 1);
  return n > 0 ? std::string(absl::StripAsciiWhitespace(absl::string_view(buf, n))) : "";
}

// The probe's child: installs a one-instruction filter (allow), says so on
// `ready`, and waits to be killed. Async-signal-safe calls only.
[[noreturn]] void ProbeChild(int ready, const sock_filter* insn) {
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  sock_fprog prog{1, const_cast<sock_filter*>(insn)};
  char ok = 'y';
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
      syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) != 0) {
    ok = 'n';
  }
  if (write(ready, &ok, 1) != 1) _exit(1);
  for (;;) pause();
}

}  // namespace

absl::Status ProbeKernelObservation() {
  static const sock_filter kAllow = BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) return ErrnoStatus("pipe2", errno);
  UniqueFd rd(fds[0]), wr(fds[1]);
  pid_t pid = fork();
  if (pid < 0) return ErrnoStatus("fork", errno);
  if (pid == 0) ProbeChild(wr.get(), &kAllow);
  wr.reset();
  UniqueFd pidfd(static_cast<int>(syscall(SYS_pidfd_open, pid, 0)));
  auto finish = [&](absl::Status status) {
    kill(pid, SIGKILL);
    int ignored;
    while (waitpid(pid, &ignored, __WALL) < 0 && errno == EINTR) {
    }
    return status;
  };
  char ok = 0;
  if (read(rd.get(), &ok, 1) != 1 || ok != 'y') {
    return finish(absl::FailedPreconditionError(
        "the probe process could not install a seccomp filter"));
  }
  const std::string scope = YamaScope();
  const std::string yama = scope.empty() ? "" : absl::StrCat(" (Yama ptrace_scope ", scope, ")");
  if (Ptrace(PTRACE_SEIZE, pid, 0, nullptr) != 0) {
    return finish(absl::FailedPreconditionError(
        absl::StrCat("ptrace is refused", yama, ": ", ErrnoStatus("PTRACE_SEIZE", errno).message())));
  }
  if (Ptrace(PTRACE_INTERRUPT, pid, 0, nullptr) != 0) {
    return finish(ErrnoStatus("PTRACE_INTERRUPT", errno));
  }
  // The interrupt stops it at once (it sits in pause()).
  int stopped = 0;
  pid_t r;
  do {
    r = waitpid(pid, &stopped, __WALL);
  } while (r < 0 && errno == EINTR);
  if (r != pid || !WIFSTOPPED(stopped)) {
    return finish(absl::FailedPreconditionError("the probe process did not stop under ptrace"));
  }
  sock_filter back{};
  long n = Ptrace(PTRACE_SECCOMP_GET_FILTER, pid, 0, &back);
  if (n < 0) {
    const int err = errno;
    std::string why(ErrnoStatus("PTRACE_SECCOMP_GET_FILTER", err).message());
    if (err == EIO) {
      why = absl::StrCat("PTRACE_SECCOMP_GET_FILTER is not available (kernel without "
                         "CONFIG_CHECKPOINT_RESTORE): ", why);
    } else if (err == EACCES) {
      why = absl::StrCat("PTRACE_SECCOMP_GET_FILTER is refused (the attestor needs "
                         "CAP_SYS_ADMIN and must not run under seccomp itself): ", why);
    }
    return finish(absl::FailedPreconditionError(why));
  }
  if (n != 1 || back.code != kAllow.code || back.k != kAllow.k) {
    return finish(absl::FailedPreconditionError(
        "PTRACE_SECCOMP_GET_FILTER returned another filter than the probe installed"));
  }
  if (!pidfd || ProcessGone(pidfd.get())) {
    return finish(absl::FailedPreconditionError("the probe process died while observed"));
  }
  return finish(absl::OkStatus());
}

}  // namespace fdattest
