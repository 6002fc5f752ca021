/* Launch-benchmark helper: bench_with_fd FD FILE PROGRAM [ARGS...] opens FILE
 * read-only at descriptor FD and execs PROGRAM (an absolute path) with the
 * same environment; exit 125 on any failure.
 *
 * bwrap reads its filter from a descriptor that must be fresh on every run;
 * starting all three compared commands through this helper lets hyperfine run
 * them without a shell (--shell=none), so no shell start-up time has to be
 * estimated and subtracted. Freestanding (no libc, own _start): a static glibc
 * program spends most of its ~1 ms start-up probing the CPU (cpuid, which traps
 * in a VM), and this helper should add as little as possible to each command. */
#include <asm/unistd.h>

static long Syscall3(long nr, long a, long b, long c) {
  long ret;
  __asm__ volatile("syscall"
                   : "=a"(ret)
                   : "a"(nr), "D"(a), "S"(b), "d"(c)
                   : "rcx", "r11", "memory");
  return ret;
}

static void Fail(const char* msg) {
  long len = 0;
  while (msg[len] != '\0') ++len;
  Syscall3(__NR_write, 2, (long)"bench_with_fd: ", 15);
  Syscall3(__NR_write, 2, (long)msg, len);
  Syscall3(__NR_write, 2, (long)"\n", 1);
  for (;;) Syscall3(__NR_exit_group, 125, 0, 0);
}

__attribute__((noreturn, used)) void BenchWithFdMain(long* sp) {
  long argc = sp[0];
  char** argv = (char**)(sp + 1);
  char** envp = argv + argc + 1;
  if (argc < 4) Fail("usage: bench_with_fd FD FILE PROGRAM [ARGS...]");
  long target = 0;
  const char* p = argv[1];
  if (*p == '\0') Fail("bad descriptor number");
  for (; *p != '\0'; ++p) {
    if (*p < '0' || *p > '9' || target > 255) Fail("bad descriptor number");
    target = target * 10 + (*p - '0');
  }
  if (target < 3 || target > 255) Fail("descriptor must be 3..255");
  long fd = Syscall3(__NR_open, (long)argv[2], 0 /* O_RDONLY */, 0);
  if (fd < 0) Fail("cannot open FILE");
  if (fd != target) {
    if (Syscall3(__NR_dup2, fd, target, 0) < 0) Fail("dup2 failed");
    Syscall3(__NR_close, fd, 0, 0);
  }
  Syscall3(__NR_execve, (long)argv[3], (long)(argv + 3), (long)envp);
  Fail("cannot exec PROGRAM");
  for (;;) {
  }
}

/* The kernel enters with argc at (%rsp); the ABI wants a 16-byte aligned stack
 * at the call. */
__asm__(
    ".text\n"
    ".global _start\n"
    "_start:\n"
    "  xor %rbp, %rbp\n"
    "  mov %rsp, %rdi\n"
    "  and $-16, %rsp\n"
    "  call BenchWithFdMain\n"
    "  hlt\n");
