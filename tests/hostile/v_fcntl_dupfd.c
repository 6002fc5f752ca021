/* fcntl(F_DUPFD / F_DUPFD_CLOEXEC): duplicates onto the lowest free number
 * >= arg, a number the workload chooses. EPERM; no new fd may appear. */
#include "hostile.h"

int main(int argc, char** argv) {
  hostile_init(argc, argv);
  report("f-dupfd-declared", syscall(SYS_fcntl, kFdControl, (long)F_DUPFD, (long)kFdSink));
  report("f-dupfd-free", syscall(SYS_fcntl, kFdInput, (long)F_DUPFD, 9L));
  report("f-dupfd-cloexec", syscall(SYS_fcntl, kFdInput, (long)F_DUPFD_CLOEXEC, 9L));
  report("f-dupfd-cmd-hi", syscall(SYS_fcntl, kFdInput, (long)F_DUPFD | HI32, 9L));
  hostile_finish();
  return 0;
}
