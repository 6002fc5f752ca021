/* Kill mode: close on a declared fd is no violation; it returns 0 WITHOUT
 * closing (the harness kcmp()s every inherited number afterwards), and the
 * output pipe still works after its own close. */
#include "hostile_nolibc.h"

int main(int argc, char** argv) {
  (void)argc;
  (void)argv;
  report("close-input", sys3(__NR_close, kFdInput, 0, 0));
  report("close-sink", sys3(__NR_close, kFdSink, 0, 0));
  report("close-control", sys3(__NR_close, kFdControl, 0, 0));
  report("close-duplex", sys3(__NR_close, kFdDuplex, 0, 0));
  report("close-output", sys3(__NR_close, kFdOutput, 0, 0));
  report("write-output-after-close", sys3(__NR_write, kFdOutput, "still-open\n", 11));
  hostile_finish();
  return 0;
}
