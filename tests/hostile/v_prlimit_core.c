/* Core dumps write the workload's memory outside its declared fds; the
 * launcher sets RLIMIT_CORE to 1/1 (0/0 if it cannot) and the filter allows
 * prlimit64 only as a query (pid 0, new_limit NULL). Raising it:
 * prlimit64(0, RLIMIT_CORE, {inf, inf}, NULL), with the pid given as our own
 * pid, with high-32 junk in the pid (the kernel takes an int), with a
 * new_limit pointer whose low 32 bits are zero (a 32-bit NULL check would
 * pass it), and setrlimit: EPERM each. The query works; the harness reads
 * /proc/PID/limits itself. */
#include <sys/mman.h>
#include <sys/resource.h>

#include "hostile.h"

int main(int argc, char** argv) {
  hostile_init(argc, argv);
  struct rlimit unlimited = {RLIM_INFINITY, RLIM_INFINITY};
  struct rlimit old;
  report("prlimit-core-raise", syscall(SYS_prlimit64, 0L, (long)RLIMIT_CORE, &unlimited, 0L));
  report("prlimit-core-raise-query",
         syscall(SYS_prlimit64, 0L, (long)RLIMIT_CORE, &unlimited, &old));
  report("prlimit-core-raise-ownpid",
         syscall(SYS_prlimit64, (long)getpid(), (long)RLIMIT_CORE, &unlimited, 0L));
  report("prlimit-core-raise-pid-hi",
         syscall(SYS_prlimit64, HI32, (long)RLIMIT_CORE, &unlimited, 0L));
  void* hi = mmap((void*)HI32, 4096, PROT_READ | PROT_WRITE,
                  MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
  if (hi == (void*)HI32) {
    memcpy(hi, &unlimited, sizeof unlimited);
    report("prlimit-core-raise-lo32-null",
           syscall(SYS_prlimit64, 0L, (long)RLIMIT_CORE, HI32, 0L));
  } else {
    report("prlimit-core-raise-lo32-null", -1);
  }
  report("setrlimit-core", syscall(SYS_setrlimit, (long)RLIMIT_CORE, &unlimited));
  report("prlimit-query-victim",
         syscall(SYS_prlimit64, g_args.victim_pid, (long)RLIMIT_CORE, 0L, &old));
  long q = report("prlimit-core-query", syscall(SYS_prlimit64, 0L, (long)RLIMIT_CORE, 0L, &old));
  if (q == 0) {
    char line[128];
    snprintf(line, sizeof line, "INFO core soft=%llu hard=%llu\n",
             (unsigned long long)old.rlim_cur, (unsigned long long)old.rlim_max);
    say(line);
  }
  hostile_finish();
  return 0;
}
