/* copy_file_range(in, off_in, out, off_out): secret (7) into the output,
 * input into the read-only control pipe (4): EBADF. Input into the
 * append-only log at offset 0 passes the filter (0 readable, 2 writable) and
 * the kernel refuses O_APPEND destinations (EBADF): earlier bytes survive. */
#include "hostile.h"

int main(int argc, char** argv) {
  hostile_init(argc, argv);
  report("cfr-secret-to-output",
         syscall(SYS_copy_file_range, (long)kFdSecret, 0L, (long)kFdOutput, 0L, 512L, 0L));
  report("cfr-input-to-control",
         syscall(SYS_copy_file_range, (long)kFdInput, 0L, (long)kFdControl, 0L, 512L, 0L));
  long off_in = 0, off_out = 0;
  report("cfr-input-over-audit",
         syscall(SYS_copy_file_range, (long)kFdInput, &off_in, (long)kFdAudit, &off_out, 7L, 0L));
  hostile_finish();
  return 0;
}
