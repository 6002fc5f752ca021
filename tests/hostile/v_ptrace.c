/* Tracing: PTRACE_ATTACH / PTRACE_SEIZE of the victim (then PEEKDATA of its
 * secret bytes), PTRACE_TRACEME. EPERM; the harness checks the victim's
 * TracerPid stays 0. */
#include <sys/ptrace.h>

#include "hostile.h"

int main(int argc, char** argv) {
  hostile_init(argc, argv);
  long a =
      report("ptrace-attach", syscall(SYS_ptrace, (long)PTRACE_ATTACH, g_args.victim_pid, 0L, 0L));
  long s =
      report("ptrace-seize", syscall(SYS_ptrace, (long)PTRACE_SEIZE, g_args.victim_pid, 0L, 0L));
  if (a == 0 || s == 0) {
    long word = 0;
    syscall(SYS_ptrace, (long)PTRACE_PEEKDATA, g_args.victim_pid, g_args.victim_secret_addr, &word);
    exfil_buf(&word, sizeof word);
    syscall(SYS_ptrace, (long)PTRACE_DETACH, g_args.victim_pid, 0L, 0L);
  }
  report("ptrace-traceme", syscall(SYS_ptrace, (long)PTRACE_TRACEME, 0L, 0L, 0L));
  hostile_finish();
  return 0;
}
