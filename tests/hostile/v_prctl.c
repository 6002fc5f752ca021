/* prctl: PR_SET_PTRACER (Yama exemption for a chosen tracer),
 * PR_SET_DUMPABLE, PR_SET_MM (rewrite exe/auxv of the process), PR_SET_NO_NEW_PRIVS
 * (harmless but not on the allowlist), each also with high-32 junk in the
 * option. EPERM. PR_SET_NAME is allowed. */
#include <sys/prctl.h>

#include "hostile.h"

int main(int argc, char** argv) {
  hostile_init(argc, argv);
  report("set-ptracer-any",
         syscall(SYS_prctl, (long)PR_SET_PTRACER, (long)PR_SET_PTRACER_ANY, 0L, 0L, 0L));
  report("set-ptracer-hi",
         syscall(SYS_prctl, (long)PR_SET_PTRACER | HI32, g_args.victim_pid, 0L, 0L, 0L));
  report("set-dumpable", syscall(SYS_prctl, (long)PR_SET_DUMPABLE, 1L, 0L, 0L, 0L));
  report("set-mm-exe",
         syscall(SYS_prctl, (long)PR_SET_MM, (long)PR_SET_MM_EXE_FILE, (long)kFdInput, 0L, 0L));
  report("set-name", syscall(SYS_prctl, (long)PR_SET_NAME, "hostile", 0L, 0L, 0L));
  hostile_finish();
  return 0;
}
