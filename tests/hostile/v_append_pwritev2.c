/* Append-only log: pwritev2 with RWF_NOAPPEND writes at the given offset even
 * on an O_APPEND file. EBADF (the append-only fd is not open for positional
 * writes), also without the flag. */
#include <sys/uio.h>

#include "hostile.h"

int main(int argc, char** argv) {
  hostile_init(argc, argv);
  struct iovec iov = {(void*)"OVERWRITE", 9};
  report("pwritev2-noappend",
         syscall(SYS_pwritev2, (long)kFdAudit, &iov, 1L, 0L, 0L, (long)RWF_NOAPPEND));
  report("pwritev2-noappend-flags-hi",
         syscall(SYS_pwritev2, (long)kFdAudit, &iov, 1L, 0L, 0L, (long)RWF_NOAPPEND | HI32));
  report("pwritev2-noflags", syscall(SYS_pwritev2, (long)kFdAudit, &iov, 1L, 0L, 0L, 0L));
  hostile_finish();
  return 0;
}
