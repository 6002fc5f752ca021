/* Kill mode: close on an undeclared fd (7, the secret the launcher already
 * closed) is a violation: SIGSYS, even with a SIGSYS handler installed. */
#include "hostile_nolibc.h"

int main(int argc, char** argv) {
  (void)argc;
  (void)argv;
  report("sigaction-sigsys", install_sigsys_handler());
  report("close-secret", sys3(__NR_close, kFdSecret, 0, 0));
  hostile_finish();
  return 0;
}
