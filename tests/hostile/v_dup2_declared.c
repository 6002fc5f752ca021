/* Overwrite a declared number: dup2(4, 3) would turn the write-only sink into
 * the control pipe, dup2(0, 1) the output into the input; dup() makes a new
 * number. All EPERM; the harness kcmp()s every declared fd afterwards. */
#include "hostile.h"

int main(int argc, char** argv) {
  hostile_init(argc, argv);
  report("dup2-control-over-sink", syscall(SYS_dup2, kFdControl, kFdSink));
  report("dup2-input-over-output", syscall(SYS_dup2, kFdInput, kFdOutput));
  report("dup2-to-free", syscall(SYS_dup2, kFdInput, 9L));
  report("dup", syscall(SYS_dup, kFdInput));
  hostile_finish();
  return 0;
}
