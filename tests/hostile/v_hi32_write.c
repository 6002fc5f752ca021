/* High 32 bits of write's fd. fd 4 is the declared read-only control pipe
 * (the harness checks nothing lands in it), fd 0 the read-only input, fd 7 the closed
 * secret: EBADF each. write(1 | 1<<32) goes to the declared output and is
 * allowed. */
#include "hostile.h"

int main(int argc, char** argv) {
  hostile_init(argc, argv);
  static const char kMsg[] = "PWNED-HI32-WRITE\n";
  report("write-control-hi", syscall(SYS_write, kFdControl | HI32, kMsg, sizeof kMsg - 1));
  report("write-input-hi", syscall(SYS_write, kFdInput | HI32, kMsg, sizeof kMsg - 1));
  report("write-secret-hi", syscall(SYS_write, kFdSecret | HI32, kMsg, sizeof kMsg - 1));
  report("write-output-hi", syscall(SYS_write, kFdOutput | HI32, "hi32\n", 5L));
  hostile_finish();
  return 0;
}
