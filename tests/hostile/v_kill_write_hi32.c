/* Kill mode: a write to the read-only control pipe with high-32 junk in the
 * fd must be SIGSYS. A control write to the declared output comes first and
 * must work (so the process demonstrably ran under the kill-mode filter). */
#include "hostile_nolibc.h"

int main(int argc, char** argv) {
  (void)argc;
  (void)argv;
  report("write-output", sys3(__NR_write, kFdOutput, "ok\n", 3));
  report("write-control-hi", sys3(__NR_write, kFdControl | HI32, "PWNED-KILL\n", 11));
  hostile_finish();
  return 0;
}
