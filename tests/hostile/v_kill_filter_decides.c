/* Kill mode: refusals that the kernel would also answer with EPERM now that
 * the workload holds no capability (ptrace and process_vm_* against the root
 * victim, kcmp, PR_SET_MM, raising RLIMIT_CORE, fchown, clone into new
 * namespaces), and PR_SET_NAME. In errno mode the hostile suite cannot tell
 * the filter's EPERM from the kernel's; here the filter's answer is SIGSYS.
 * Each attempt runs in a forked child (plain clone, allowed), so one program
 * covers them all; the parent reports "rc=<128 + signal>" for a child killed
 * by a signal, else "rc=0 errno=<what the call returned as errno>". A control
 * child makes an allowed call and must exit normally. */
#include "hostile_nolibc.h"

#define NL_SIGCHLD 17
#define NL_PTRACE_ATTACH 16
#define NL_PTRACE_SEIZE 0x4206
#define NL_KCMP_FILE 0
#define NL_PR_SET_NAME 15
#define NL_PR_SET_MM 35
#define NL_PR_SET_MM_EXE_FILE 13
#define NL_RLIMIT_CORE 4
#define NL_CLONE_NEWNS 0x00020000L
#define NL_CLONE_NEWNET 0x40000000L

static long victim_pid(char** argv) {
  long v = 0;
  for (const char* p = argv[3]; *p >= '0' && *p <= '9'; ++p) v = v * 10 + (*p - '0');
  return v;
}

/* Runs nr(a..f) in a child; reports how the child ended. */
static void attempt(const char* label, long nr, long a, long b, long c, long d, long e, long f) {
  long pid = sys6(__NR_clone, NL_SIGCHLD, 0, 0, 0, 0, 0);
  if (pid == 0) {
    long r = sys6(nr, a, b, c, d, e, f);
    sys3(__NR_exit_group, r < 0 ? -r : 0, 0, 0);
  }
  if (pid < 0) {
    report(label, pid);
    return;
  }
  int status = 0;
  long w = sys6(__NR_wait4, pid, (long)&status, 0, 0, 0, 0);
  if (w != pid) {
    report(label, w < 0 ? w : -1);
    return;
  }
  int sig = status & 0x7f;
  /* killed: rc = 128 + signal; exited: rc = 0, errno = the call's errno. */
  report(label, sig != 0 ? 128 + sig : -((status >> 8) & 0xff));
}

int main(int argc, char** argv) {
  (void)argc;
  long victim = victim_pid(argv);
  long unlimited[2] = {-1, -1};
  long iov[2] = {0, 1};
  attempt("control-getppid", __NR_getppid, 0, 0, 0, 0, 0, 0);
  attempt("ptrace-attach-victim", __NR_ptrace, NL_PTRACE_ATTACH, victim, 0, 0, 0, 0);
  attempt("ptrace-seize-victim", __NR_ptrace, NL_PTRACE_SEIZE, victim, 0, 0, 0, 0);
  attempt("process-vm-readv-victim", __NR_process_vm_readv, victim, (long)iov, 1, (long)iov, 1, 0);
  attempt("kcmp-victim", __NR_kcmp, victim, victim, NL_KCMP_FILE, 0, 0, 0);
  attempt("pidfd-getfd", __NR_pidfd_getfd, kFdInput, 0, 0, 0, 0, 0);
  attempt("prctl-set-mm-exe", __NR_prctl, NL_PR_SET_MM, NL_PR_SET_MM_EXE_FILE, kFdInput, 0, 0, 0);
  attempt("prctl-set-name", __NR_prctl, NL_PR_SET_NAME, (long)"x", 0, 0, 0, 0);
  attempt("prlimit-core-raise", __NR_prlimit64, 0, NL_RLIMIT_CORE, (long)unlimited, 0, 0, 0);
  attempt("setrlimit-core", __NR_setrlimit, NL_RLIMIT_CORE, (long)unlimited, 0, 0, 0, 0);
  attempt("fchown-audit", __NR_fchown, kFdAudit, 0, 0, 0, 0, 0);
  attempt("clone-newns-newnet", __NR_clone, NL_CLONE_NEWNS | NL_CLONE_NEWNET | NL_SIGCHLD, 0, 0, 0,
          0, 0);
  hostile_finish();
  return 0;
}
