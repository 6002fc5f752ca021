/* Kill mode: dup2 of the control pipe over the sink must be SIGSYS. */
#include "hostile_nolibc.h"

int main(int argc, char** argv) {
  (void)argc;
  (void)argv;
  report("dup2-control-over-sink", sys3(__NR_dup2, kFdControl, kFdSink, 0));
  hostile_finish();
  return 0;
}
