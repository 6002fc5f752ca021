/* Kill mode ("on_violation": "kill"): a read of the undeclared secret fd must
 * end the process with SIGSYS (KILL_PROCESS), even though the workload
 * installed a SIGSYS handler first (a catchable trap would let it go on). */
#include "hostile_nolibc.h"

int main(int argc, char** argv) {
  (void)argc;
  (void)argv;
  report("sigaction-sigsys", install_sigsys_handler());
  char buf[256];
  long n = report("read-secret", sys3(__NR_read, kFdSecret, buf, sizeof buf));
  if (n > 0) sys3(__NR_write, kFdOutput, buf, n);
  hostile_finish();
  return 0;
}
