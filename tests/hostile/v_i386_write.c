/* Foreign ABI: i386 write (4) through `int $0x80`, to the declared read-only
 * control pipe (fd 4) and the undeclared secret fd: must die by SIGSYS. */
#include "hostile.h"

static const char kMsg[] = "PWNED-I386-WRITE\n";

int main(int argc, char** argv) {
  hostile_init(argc, argv);
  long ret;
  __asm__ volatile("int $0x80"
                   : "=a"(ret)
                   : "a"(4L), "b"((long)kFdControl), "c"(kMsg), "d"((long)sizeof kMsg - 1)
                   : "memory");
  ret = (int)ret; /* eax only */
  report("i386-write", ret < 0 ? (errno = (int)-ret, -1L) : ret);
  hostile_finish();
  return 0;
}
