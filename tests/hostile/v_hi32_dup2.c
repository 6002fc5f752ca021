/* dup2 with high-32 junk in newfd (the kernel takes unsigned int newfd):
 * dup2(4, 3 | 1<<32) would replace the declared sink with the control
 * socket. Every dup2 is EPERM. */
#include "hostile.h"

int main(int argc, char** argv) {
  hostile_init(argc, argv);
  report("dup2-newfd-hi", syscall(SYS_dup2, kFdControl, kFdSink | HI32));
  report("dup2-oldfd-hi", syscall(SYS_dup2, kFdInput | HI32, kFdOutput));
  report("dup2-both-hi", syscall(SYS_dup2, kFdControl | HI32, kFdDuplex | HI32));
  hostile_finish();
  return 0;
}
