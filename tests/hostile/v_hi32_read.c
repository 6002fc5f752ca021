/* High 32 bits of read's fd: the kernel truncates the fd to unsigned int, so
 * read(3 | 1<<32) is read(3). fd 3 is declared write-only (its receive queue
 * holds secret bytes) and fd 7 is the undeclared secret: both must give
 * EBADF. read(0 | 1<<32) is a read of the declared input and is allowed. */
#include "hostile.h"

int main(int argc, char** argv) {
  hostile_init(argc, argv);
  char buf[256];
  long n = report("read-sink-hi", syscall(SYS_read, kFdSink | HI32, buf, sizeof buf));
  exfil_buf(buf, n);
  n = report("read-secret-hi", syscall(SYS_read, kFdSecret | HI32, buf, sizeof buf));
  exfil_buf(buf, n);
  n = report("read-audit-hi", syscall(SYS_read, kFdAudit | HI32, buf, sizeof buf));
  exfil_buf(buf, n);
  report("read-input-hi", syscall(SYS_read, kFdInput | HI32, buf, sizeof buf));
  hostile_finish();
  return 0;
}
