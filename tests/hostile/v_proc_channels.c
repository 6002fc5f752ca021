/* A residual channel no filter can close (docs/launcher.md, "Channels the
 * filter cannot close"): /proc/PID/cmdline shows the workload's argv area to
 * every local user, and the workload can write that memory with plain stores.
 * It copies the input's bytes over its argv strings. The harness's
 * /proc/PID/cmdline check sees them: the test that runs this is present but
 * disabled, because it demonstrates a leak rather than a refusal. */
#include "hostile.h"

int main(int argc, char** argv) {
  hostile_init(argc, argv);
  char buf[256];
  long n = syscall(SYS_pread64, (long)kFdInput, buf, sizeof buf, 0L);
  report("read-input", n);
  /* The argv strings are contiguous: overwrite from argv[1] on, keeping the
   * terminating NUL of the last one. */
  char* start = argv[1];
  char* end = argv[argc - 1] + strlen(argv[argc - 1]);
  for (long i = 0; n > 0 && start + i < end; ++i) start[i] = buf[i % n] == '\n' ? ' ' : buf[i % n];
  report("overwrite-argv", n > 0 ? 0 : -1);
  hostile_finish();
  return 0;
}
