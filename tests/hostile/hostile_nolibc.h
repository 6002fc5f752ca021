/* Freestanding counterpart of hostile.h for workloads run with
 * "on_violation": "kill". A statically linked glibc program makes syscalls
 * before main (readlink("/proc/self/exe") in _dl_non_dynamic_init, prlimit64,
 * ...); if the kill-mode filter refused any of them the program would die
 * before attempting anything, and a SIGSYS would prove nothing. These
 * programs bring their own _start and raw syscalls, so the first refused
 * syscall is the attack itself. Same output protocol as hostile.h. */
#ifndef FDATTEST_TESTS_HOSTILE_HOSTILE_NOLIBC_H_
#define FDATTEST_TESTS_HOSTILE_HOSTILE_NOLIBC_H_

#include <asm/unistd.h>
#include <stddef.h>

#define HI32 (1L << 32)

enum {
  kFdInput = 0,
  kFdOutput = 1,
  kFdAudit = 2,
  kFdSink = 3,
  kFdControl = 4,
  kFdDuplex = 5,
  kFdSecret = 7
};

/* Returns the raw kernel result (-errno on failure). */
static inline long sys6(long nr, long a, long b, long c, long d, long e, long f) {
  register long r10 __asm__("r10") = d;
  register long r8 __asm__("r8") = e;
  register long r9 __asm__("r9") = f;
  long ret;
  __asm__ volatile("syscall"
                   : "=a"(ret)
                   : "a"(nr), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
                   : "rcx", "r11", "memory");
  return ret;
}
#define sys3(nr, a, b, c) sys6((nr), (long)(a), (long)(b), (long)(c), 0, 0, 0)

/* The compiler may emit calls to these for struct initialisation. */
void* memset(void* d, int c, size_t n) {
  unsigned char* p = (unsigned char*)d;
  while (n--) *p++ = (unsigned char)c;
  return d;
}
void* memcpy(void* d, const void* s, size_t n) {
  unsigned char* p = (unsigned char*)d;
  const unsigned char* q = (const unsigned char*)s;
  while (n--) *p++ = *q++;
  return d;
}

static inline size_t nl_strlen(const char* s) {
  size_t n = 0;
  while (s[n]) ++n;
  return n;
}

static inline void say(const char* s) { sys3(__NR_write, kFdOutput, s, nl_strlen(s)); }

static inline char* nl_put_long(char* p, long v) {
  char tmp[24];
  int n = 0;
  unsigned long u = v < 0 ? 0UL - (unsigned long)v : (unsigned long)v;
  do {
    tmp[n++] = (char)('0' + u % 10);
    u /= 10;
  } while (u);
  if (v < 0) *p++ = '-';
  while (n) *p++ = tmp[--n];
  return p;
}

/* Prints "RESULT <label> rc=<rc> errno=<errno>" from a raw result. */
static inline long report(const char* label, long raw) {
  char line[128];
  char* p = line;
  const char* parts[] = {"RESULT ", label, " rc="};
  for (int i = 0; i < 3; ++i)
    for (const char* s = parts[i]; *s && p < line + 80; ++s) *p++ = *s;
  p = nl_put_long(p, raw < 0 ? -1 : raw);
  for (const char* s = " errno="; *s; ++s) *p++ = *s;
  p = nl_put_long(p, raw < 0 ? -raw : 0);
  *p++ = '\n';
  sys3(__NR_write, kFdOutput, line, p - line);
  return raw;
}

static inline void hostile_finish(void) {
  say("\nDONE\n");
  for (int i = 0; i < 200; ++i) {
    long ts[2] = {0, 100 * 1000 * 1000};
    sys3(__NR_nanosleep, ts, 0, 0);
  }
  sys3(__NR_exit_group, 0, 0, 0);
}

/* rt_sigreturn trampoline: the kernel requires SA_RESTORER on x86_64. */
void hostile_restorer(void);
__asm__(
    ".text\n.global hostile_restorer\nhostile_restorer:\n"
    "  mov $15, %eax\n  syscall\n  hlt\n");

struct nl_sigaction {
  void (*handler)(int);
  unsigned long flags;
  void (*restorer)(void);
  unsigned long mask;
};
#define NL_SA_RESTORER 0x04000000UL

/* A handler for SIGSYS: if the filter ever answered with a catchable trap
 * instead of KILL_PROCESS, the workload would survive and say so. */
static void nl_sigsys_handler(int sig) {
  (void)sig;
  say("RESULT caught-sigsys rc=0 errno=0\n");
  hostile_finish();
}

static inline long install_sigsys_handler(void) {
  struct nl_sigaction sa = {nl_sigsys_handler, NL_SA_RESTORER, hostile_restorer, 0};
  return sys6(__NR_rt_sigaction, 31 /* SIGSYS */, (long)&sa, 0, 8, 0, 0);
}

int main(int argc, char** argv);

void hostile_start(long* sp) {
  int argc = (int)sp[0];
  char** argv = (char**)(sp + 1);
  say("READY\n");
  sys3(__NR_exit_group, main(argc, argv), 0, 0);
}

__asm__(
    ".text\n.global _start\n_start:\n"
    "  xor %ebp, %ebp\n  mov %rsp, %rdi\n  and $-16, %rsp\n"
    "  call hostile_start\n  hlt\n");

#endif /* FDATTEST_TESTS_HOSTILE_HOSTILE_NOLIBC_H_ */
