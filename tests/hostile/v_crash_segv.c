/* A crashing workload must not dump core: a core file (or a core_pattern
 * pipe helper) would receive the workload's memory, PHI included, outside
 * its declared fds. The harness raises its own RLIMIT_CORE to unlimited
 * before launching, so only the launcher's limit (and the filter's refusal
 * to raise it) stands in the way. The workload tries to raise the limit
 * (EPERM), says DONE so the harness can inspect it (/proc/PID/limits), waits
 * for the harness's go-ahead on the control pipe (fd 4, readable), then
 * writes through a NULL pointer. The harness expects SIGSEGV without
 * WCOREDUMP and no core file anywhere it can look. */
#include <sys/resource.h>

#include "hostile.h"

int main(int argc, char** argv) {
  hostile_init(argc, argv);
  struct rlimit unlimited = {RLIM_INFINITY, RLIM_INFINITY};
  report("prlimit-core-raise", syscall(SYS_prlimit64, 0L, (long)RLIMIT_CORE, &unlimited, 0L));
  /* Some secret-looking state in memory, as a real workload would have. */
  static volatile char phi[4096];
  memset((char*)phi, 'P', sizeof phi);
  say("\nDONE\n");
  char go;
  if (syscall(SYS_read, (long)kFdControl, &go, 1L) != 1) syscall(SYS_exit_group, 3L);
  static volatile uintptr_t null_address; /* 0; opaque to the compiler */
  *(volatile int*)(null_address + (phi[0] == 'P' ? 0 : 8)) = 1; /* SIGSEGV */
  syscall(SYS_exit_group, 4L);
  return 0;
}
