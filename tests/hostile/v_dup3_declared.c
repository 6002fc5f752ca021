/* Overwrite a declared number with dup3 (also with O_CLOEXEC, which would
 * make the replaced number vanish at the next exec). All EPERM. */
#include "hostile.h"

int main(int argc, char** argv) {
  hostile_init(argc, argv);
  report("dup3-control-over-sink", syscall(SYS_dup3, kFdControl, kFdSink, 0L));
  report("dup3-cloexec", syscall(SYS_dup3, kFdInput, kFdOutput, (long)O_CLOEXEC));
  report("dup3-to-free", syscall(SYS_dup3, kFdDuplex, 9L, 0L));
  hostile_finish();
  return 0;
}
