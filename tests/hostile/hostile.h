/* Shared helpers for the hostile workloads (v_*.c), statically linked C
 * programs that run under fdlaunch and try one bypass each.
 *
 * Protocol with hostile_test.cc (fd 1 is the harness's output pipe):
 *   "READY\n"                               first thing in main
 *   "RESULT <label> rc=<rc> errno=<errno>\n" one line per attempt
 *   "\nDONE\n"                              then the program sleeps (at most
 *                                           20 s) so the harness can inspect
 *                                           its descriptor table and kill it.
 * The harness never trusts these lines alone: it checks the real effect.
 *
 * Every syscall goes through syscall(2) so that 64-bit argument values
 * (high-32 junk in fd arguments) reach the kernel unmodified and no libc
 * wrapper substitutes a different syscall.
 *
 * argv (set by the harness):
 *   1 secret file path   2 scratch dir   3 victim pid
 *   4 victim's fd number holding the secret   5 victim's address of the
 *   secret bytes (hex)   6 directory of the hostile binaries */
#ifndef FDATTEST_TESTS_HOSTILE_HOSTILE_H_
#define FDATTEST_TESTS_HOSTILE_HOSTILE_H_

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

/* Descriptor layout of the harness's profile. */
enum {
  kFdInput = 0,   /* r, opened by the launcher (vetted input file) */
  kFdOutput = 1,  /* w, inherited pipe */
  kFdAudit = 2,   /* a, opened by the launcher (append-only log) */
  kFdSink = 3,    /* w, inherited unix socket (harness queued secret bytes
                     towards it, so any read of it leaks) */
  kFdControl = 4, /* r, inherited read end of a pipe (exactly O_RDONLY, as
                     "r" requires; any byte written into it is a leak) */
  kFdDuplex = 5,  /* rw, inherited unix socket */
  kFdExtra = 6,   /* optional per test (pty slave, file or FIFO) */
  kFdSecret = 7,  /* the secret, inherited but undeclared: must be closed */
};

#define HI32 (1L << 32)

struct hostile_args {
  const char* secret_path;
  const char* scratch_dir;
  long victim_pid;
  long victim_secret_fd;
  unsigned long victim_secret_addr;
  const char* bin_dir;
};

static struct hostile_args g_args;

static inline void hostile_write_all(int fd, const char* s, size_t n) {
  while (n > 0) {
    long r = syscall(SYS_write, fd, s, n);
    if (r <= 0) {
      if (r < 0 && errno == EINTR) continue;
      return;
    }
    s += r;
    n -= (size_t)r;
  }
}

static inline void say(const char* s) { hostile_write_all(kFdOutput, s, strlen(s)); }

/* Prints one RESULT line; returns rc so calls can be chained. errno is
 * captured before anything else can clobber it. */
static inline long report(const char* label, long rc) {
  int e = rc < 0 ? errno : 0;
  char line[160];
  int n = snprintf(line, sizeof line, "RESULT %s rc=%ld errno=%d\n", label, rc, e);
  if (n > 0) hostile_write_all(kFdOutput, line, (size_t)n);
  errno = e;
  return rc;
}

/* Pushes stolen bytes to every channel the workload may write, so that the
 * harness's content checks see any successful leak. */
static inline void exfil_buf(const void* buf, long n) {
  static const int kOut[] = {kFdOutput, kFdAudit, kFdSink, kFdDuplex};
  if (n <= 0) return;
  for (size_t i = 0; i < sizeof kOut / sizeof kOut[0]; ++i) {
    hostile_write_all(kOut[i], (const char*)buf, (size_t)n);
  }
}

/* Reads whatever an fd the workload should not have yields, and leaks it. */
static inline void exfil_fd(long fd) {
  char buf[512];
  long n = syscall(SYS_pread64, fd, buf, sizeof buf, 0L);
  if (n <= 0) n = syscall(SYS_read, fd, buf, sizeof buf);
  exfil_buf(buf, n);
}

static inline void hostile_init(int argc, char** argv) {
  if (argc < 7) {
    say("READY\nRESULT usage rc=-1 errno=22\n");
    syscall(SYS_exit_group, 2);
  }
  g_args.secret_path = argv[1];
  g_args.scratch_dir = argv[2];
  g_args.victim_pid = strtol(argv[3], NULL, 10);
  g_args.victim_secret_fd = strtol(argv[4], NULL, 10);
  g_args.victim_secret_addr = strtoul(argv[5], NULL, 16);
  g_args.bin_dir = argv[6];
  say("READY\n");
}

/* Builds "<bin_dir>/<name>" into out. */
static inline const char* hostile_bin(char* out, size_t cap, const char* name) {
  snprintf(out, cap, "%s/%s", g_args.bin_dir, name);
  return out;
}

/* Announces the end of the attempts and stays alive for inspection. */
static inline void hostile_finish(void) {
  say("\nDONE\n"); /* own line even after leaked bytes without a newline */
  for (int i = 0; i < 200; ++i) {
    struct timespec ts = {0, 100 * 1000 * 1000};
    syscall(SYS_nanosleep, &ts, NULL);
  }
  syscall(SYS_exit_group, 0);
}

#endif /* FDATTEST_TESTS_HOSTILE_HOSTILE_H_ */
