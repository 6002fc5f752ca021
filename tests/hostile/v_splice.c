/* splice(in, off_in, out, off_out): one foreign fd on either side. Sink (3,
 * write-only socket with queued secret bytes) into the output pipe, secret
 * (7) into the pipe, input into the read-only control pipe (4). EBADF. */
#include <fcntl.h>

#include "hostile.h"

int main(int argc, char** argv) {
  hostile_init(argc, argv);
  report("splice-sink-to-output",
         syscall(SYS_splice, (long)kFdSink, 0L, (long)kFdOutput, 0L, 64L, 0L));
  report("splice-secret-to-output",
         syscall(SYS_splice, (long)kFdSecret, 0L, (long)kFdOutput, 0L, 64L, 0L));
  report("splice-input-to-control",
         syscall(SYS_splice, (long)kFdInput, 0L, (long)kFdControl, 0L, 64L, 0L));
  report("splice-sink-hi-to-output",
         syscall(SYS_splice, (long)kFdSink | HI32, 0L, (long)kFdOutput, 0L, 64L, 0L));
  /* The readable control pipe (4) into the append-only log (2) at offset 0:
   * the filter allows it (4 readable, 2 writable) and the kernel refuses
   * O_APPEND destinations for splice (EINVAL), with or without an offset. */
  long off = 0;
  report("splice-control-over-audit", syscall(SYS_splice, (long)kFdControl, 0L, (long)kFdAudit,
                                              &off, 64L, (long)SPLICE_F_NONBLOCK));
  report("splice-control-to-audit", syscall(SYS_splice, (long)kFdControl, 0L, (long)kFdAudit, 0L,
                                            64L, (long)SPLICE_F_NONBLOCK));
  hostile_finish();
  return 0;
}
