/* Inode mutators on declared fds (row 26): fchmod/fchown the log, set and
 * remove xattrs, utimensat through the fd, flock (DoS on the log). EPERM
 * each; the harness checks the files' modes and contents afterwards. */
#include <sys/file.h>

#include "hostile.h"

int main(int argc, char** argv) {
  hostile_init(argc, argv);
  report("fchmod-audit", syscall(SYS_fchmod, (long)kFdAudit, 0666L));
  report("fchown-audit", syscall(SYS_fchown, (long)kFdAudit, 65534L, 65534L));
  report("fsetxattr-input", syscall(SYS_fsetxattr, (long)kFdInput, "user.evil", "1", 1L, 0L));
  report("fremovexattr-input", syscall(SYS_fremovexattr, (long)kFdInput, "user.evil"));
  report("utimensat-audit", syscall(SYS_utimensat, (long)kFdAudit, 0L, 0L, 0L));
  report("flock-audit", syscall(SYS_flock, (long)kFdAudit, (long)LOCK_EX));
  report("fchdir-input", syscall(SYS_fchdir, (long)kFdInput));
  hostile_finish();
  return 0;
}
