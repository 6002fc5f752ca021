/* vmsplice is checked only against "declared", not against the declared
 * direction, and the kernel picks the direction from the file's mode: on a
 * FIFO open O_RDWR it moves user memory INTO the pipe, a write on a channel
 * the profile calls read-only. The launcher therefore accepts only
 * exactly-O_RDONLY descriptors for "r" (the harness's O_RDWR variant must be
 * refused at launch, so this never runs). On the O_RDONLY FIFO the kernel
 * treats vmsplice as a read of the (empty) pipe: nothing is written (EAGAIN
 * with SPLICE_F_NONBLOCK; the harness keeps a writer open and checks that
 * no byte arrived in the FIFO). */
#include <fcntl.h>
#include <sys/uio.h>

#include "hostile.h"

int main(int argc, char** argv) {
  hostile_init(argc, argv);
  static char buf[] = "PWNED-VMSPLICE\n";
  struct iovec iov = {buf, sizeof buf - 1};
  report("vmsplice-extra",
         syscall(SYS_vmsplice, (long)kFdExtra, &iov, 1L, (long)SPLICE_F_NONBLOCK));
  report("vmsplice-extra-gift",
         syscall(SYS_vmsplice, (long)kFdExtra, &iov, 1L,
                 (long)(SPLICE_F_NONBLOCK | SPLICE_F_GIFT)));
  hostile_finish();
  return 0;
}
