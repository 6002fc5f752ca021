// Whether this kernel runs i386 system calls (`int $0x80`) at all. Without
// IA32 emulation (CONFIG_IA32_EMULATION off, or `ia32_emulation=false`, or a
// hypervisor that turns it off) the instruction faults before seccomp runs:
// no bypass, but no test of the filter's arch check either, so tests that
// need the compat entry point skip with this reason. Thread-compatible.
#ifndef FDATTEST_TESTS_SUPPORT_IA32_H_
#define FDATTEST_TESTS_SUPPORT_IA32_H_

#include <sys/wait.h>
#include <unistd.h>

namespace fdattest::testing {

inline constexpr char kNoIa32Emulation[] = "kernel runs no i386 system calls (no IA32 emulation)";

// Forks a child that calls getpid through `int $0x80`, unfiltered.
inline bool HasIa32Emulation() {
  const pid_t pid = fork();
  if (pid == 0) {
    long ret;
    __asm__ volatile("int $0x80" : "=a"(ret) : "a"(20L) : "memory");
    _exit(ret > 0 ? 0 : 1);
  }
  if (pid < 0) return false;
  int status = 0;
  if (waitpid(pid, &status, 0) != pid) return false;
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

}  // namespace fdattest::testing

#endif  // FDATTEST_TESTS_SUPPORT_IA32_H_
