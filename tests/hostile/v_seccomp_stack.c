/* Filter stacking: install another filter (allow-all) with seccomp() and with
 * prctl(PR_SET_SECCOMP), one with a user-notification listener (that returns
 * an fd and can override decisions), and query actions. EPERM each; then the
 * append-only rule must still hold (lseek on the log: EPERM). The harness
 * reads Seccomp_filters from /proc/PID/status. */
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>

#include "hostile.h"

int main(int argc, char** argv) {
  hostile_init(argc, argv);
  struct sock_filter allow[] = {BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW)};
  struct sock_fprog prog = {1, allow};
  report("seccomp-set-filter", syscall(SYS_seccomp, (long)SECCOMP_SET_MODE_FILTER, 0L, &prog));
  report("seccomp-new-listener", syscall(SYS_seccomp, (long)SECCOMP_SET_MODE_FILTER,
                                         (long)SECCOMP_FILTER_FLAG_NEW_LISTENER, &prog));
  report("seccomp-tsync", syscall(SYS_seccomp, (long)SECCOMP_SET_MODE_FILTER,
                                  (long)SECCOMP_FILTER_FLAG_TSYNC, &prog));
  report("prctl-set-seccomp",
         syscall(SYS_prctl, (long)PR_SET_SECCOMP, (long)SECCOMP_MODE_FILTER, &prog, 0L, 0L));
  report("prctl-set-seccomp-hi",
         syscall(SYS_prctl, (long)PR_SET_SECCOMP | HI32, (long)SECCOMP_MODE_FILTER, &prog, 0L, 0L));
  report("lseek-audit-after", syscall(SYS_lseek, (long)kFdAudit, 0L, (long)SEEK_SET));
  hostile_finish();
  return 0;
}
