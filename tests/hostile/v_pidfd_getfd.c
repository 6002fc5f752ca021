/* Steal an fd from another process: pidfd_open(victim) then
 * pidfd_getfd(pidfd, victim's secret fd). The victim is a sibling process the
 * harness keeps with the secret open. EPERM for both (pidfd_getfd also tried
 * on guessed pidfd numbers), and clone(CLONE_PIDFD) is EPERM. */
#include <sched.h>
#include <signal.h>

#include "hostile.h"

int main(int argc, char** argv) {
  hostile_init(argc, argv);
  long pidfd = report("pidfd-open-victim", syscall(SYS_pidfd_open, g_args.victim_pid, 0L));
  report("pidfd-open-parent", syscall(SYS_pidfd_open, (long)getppid(), 0L));
  if (pidfd >= 0) {
    long fd = report("pidfd-getfd", syscall(SYS_pidfd_getfd, pidfd, g_args.victim_secret_fd, 0L));
    if (fd >= 0) exfil_fd(fd);
  }
  for (long guess = 0; guess < 8; ++guess) {
    long fd = syscall(SYS_pidfd_getfd, guess, g_args.victim_secret_fd, 0L);
    if (fd >= 0 || errno != EPERM) {
      report("pidfd-getfd-guess", fd);
      if (fd >= 0) exfil_fd(fd);
    }
  }
  int child_pidfd = -1;
  long c = report("clone-pidfd",
                  syscall(SYS_clone, (long)(CLONE_PIDFD | SIGCHLD), 0L, &child_pidfd, 0L, 0L));
  if (c == 0) syscall(SYS_exit_group, 0L);
  hostile_finish();
  return 0;
}
