// Whether this kernel runs i386 system calls (`int $0x80`) at all. Without
// IA32 emulation (CONFIG_IA32_EMULATION off, or `ia32_emulation=false`, or a
// hypervisor that turns it off) the instruction faults before seccomp runs:
// no bypass, but no test of the filter's arch check either, so tests that
// need the compat entry point skip with this reason. Thread-compatible.
#ifndef FDATTEST_TESTS_SUPPORT_IA32_H_
#define FDATTEST_TESTS_SUPPORT_IA32_H_

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>

namespace fdattest::testing {

inline constexpr char kNoIa32Emulation[] = "kernel runs no i386 system calls (no IA32 emulation)";

// Forks a child that calls getpid through `int $0x80`, unfiltered.
inline bool HasIa32Emulation() {
  const pid_t pid = fork();
  if (pid == 0) {
    signal(SIGSEGV, SIG_DFL);  // not a sanitizer's handler: the fault must show as SIGSEGV
    long ret;
    __asm__ volatile("int $0x80" : "=a"(ret) : "a"(20L) : "memory");
    _exit(ret > 0 ? 0 : 1);
  }
  // A probe that cannot run must not turn into a skip: stop the test binary.
  if (pid < 0) std::abort();
  int status = 0;
  if (waitpid(pid, &status, 0) != pid) std::abort();
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return true;
  // Only the fault of `int $0x80` itself means "no IA32 emulation"; anything
  // else (a wrong getpid answer, another signal) is a broken probe.
  if (WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV) return false;
  std::abort();
}

}  // namespace fdattest::testing

#endif  // FDATTEST_TESTS_SUPPORT_IA32_H_
