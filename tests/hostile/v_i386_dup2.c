/* Foreign ABI: `int $0x80` enters the i386 table, where 63 is dup2 (and 63 is
 * uname on x86_64). dup2(4, 3) would replace the declared sink. The filter's
 * arch check must kill the process (SIGSYS) before any number is looked at. */
#include "hostile.h"

int main(int argc, char** argv) {
  hostile_init(argc, argv);
  long ret;
  __asm__ volatile("int $0x80"
                   : "=a"(ret)
                   : "a"(63L), "b"((long)kFdControl), "c"((long)kFdSink)
                   : "memory");
  ret = (int)ret; /* eax only */
  report("i386-dup2", ret < 0 ? (errno = (int)-ret, -1L) : ret);
  hostile_finish();
  return 0;
}
