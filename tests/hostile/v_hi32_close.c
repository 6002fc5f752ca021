/* High 32 bits of close's fd: the kernel truncates it, so
 * close(0x100000000 | N) is close(N). A rule compared as 64 bits would send
 * it down the "undeclared" path (or worse, let it through). Declared: the
 * filter answers 0 without closing (low 32 bits are what count); fd 7
 * (already closed by the launcher): EBADF. The harness checks the table is
 * intact (kcmp of every inherited number). */
#include "hostile.h"

int main(int argc, char** argv) {
  hostile_init(argc, argv);
  report("close-input-hi", syscall(SYS_close, kFdInput | HI32));
  report("close-output-hi", syscall(SYS_close, kFdOutput | HI32));
  report("close-sink-hi", syscall(SYS_close, kFdSink | HI32));
  report("close-secret-hi", syscall(SYS_close, kFdSecret | HI32));
  hostile_finish();
  return 0;
}
