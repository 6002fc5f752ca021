/* Kill mode keeps one exception: clone3 returns ENOSYS so that libc falls
 * back to clone (whose flags BPF can see). The workload survives it, and an
 * allowed fstat of a declared fd works too. */
#include "hostile_nolibc.h"

int main(int argc, char** argv) {
  (void)argc;
  (void)argv;
  unsigned long args[11] = {0};
  args[4] = 17; /* exit_signal = SIGCHLD */
  long rc = report("clone3", sys3(__NR_clone3, args, sizeof args, 0));
  if (rc == 0) sys3(__NR_exit_group, 0, 0, 0);
  char st[144];
  report("fstat-input", sys3(__NR_fstat, kFdInput, st, 0));
  hostile_finish();
  return 0;
}
