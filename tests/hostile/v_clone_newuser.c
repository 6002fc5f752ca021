/* Namespaces: a new user namespace gives the workload CAP_SYS_ADMIN over new
 * mount/net namespaces (and a way around no_new_privs-based assumptions).
 * clone(CLONE_NEWUSER), clone(CLONE_NEWNS|CLONE_NEWNET) with high-32 junk,
 * unshare, setns: EPERM. clone3: ENOSYS. A plain fork-style clone is allowed
 * (the child exits at once). */
#include <sched.h>
#include <signal.h>

#include "hostile.h"

static long child_exit(long rc) {
  if (rc == 0) syscall(SYS_exit_group, 0L);
  return rc;
}

int main(int argc, char** argv) {
  hostile_init(argc, argv);
  report("clone-newuser",
         child_exit(syscall(SYS_clone, (long)(CLONE_NEWUSER | SIGCHLD), 0L, 0L, 0L, 0L)));
  report("clone-newns-newnet-hi",
         child_exit(syscall(SYS_clone, (long)(CLONE_NEWNS | CLONE_NEWNET | SIGCHLD) | HI32, 0L, 0L,
                            0L, 0L)));
  report("unshare-newuser", syscall(SYS_unshare, (long)CLONE_NEWUSER));
  report("setns", syscall(SYS_setns, (long)kFdInput, 0L));
  unsigned long args[11] = {0};
  args[0] = CLONE_NEWUSER;
  args[4] = SIGCHLD;
  report("clone3-newuser", child_exit(syscall(SYS_clone3, args, sizeof args)));
  long pid = report("clone-plain", child_exit(syscall(SYS_clone, (long)SIGCHLD, 0L, 0L, 0L, 0L)));
  if (pid > 0) {
    int status;
    syscall(SYS_wait4, pid, &status, 0L, 0L);
  }
  hostile_finish();
  return 0;
}
