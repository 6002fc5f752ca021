/* tee(in, out) and vmsplice(fd): tee from the secret (7) or from the output
 * pipe's write end (1, not readable) into the output: EBADF. vmsplice on the
 * secret: EBADF; on the declared input it passes the filter (vmsplice is
 * checked against all declared fds) and the kernel refuses a non-pipe
 * (EBADF). vmsplice into the output pipe is an allowed write. */
#include <sys/uio.h>

#include "hostile.h"

int main(int argc, char** argv) {
  hostile_init(argc, argv);
  report("tee-secret-to-output", syscall(SYS_tee, (long)kFdSecret, (long)kFdOutput, 512L, 0L));
  report("tee-output-to-output", syscall(SYS_tee, (long)kFdOutput, (long)kFdOutput, 512L, 0L));
  report("tee-output-to-control", syscall(SYS_tee, (long)kFdOutput, (long)kFdControl, 512L, 0L));
  static char buf[64] = "vmsplice-ok\n";
  struct iovec iov = {buf, 12};
  report("vmsplice-secret", syscall(SYS_vmsplice, (long)kFdSecret, &iov, 1L, 0L));
  report("vmsplice-input", syscall(SYS_vmsplice, (long)kFdInput, &iov, 1L, 0L));
  report("vmsplice-output", syscall(SYS_vmsplice, (long)kFdOutput, &iov, 1L, 0L));
  hostile_finish();
  return 0;
}
