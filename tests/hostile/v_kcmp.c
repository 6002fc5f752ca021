/* kcmp compares kernel objects across processes: an oracle for which file a
 * victim's fd is (probe for the secret). EPERM. */
#include <linux/kcmp.h>

#include "hostile.h"

int main(int argc, char** argv) {
  hostile_init(argc, argv);
  report("kcmp-file", syscall(SYS_kcmp, (long)getpid(), g_args.victim_pid, (long)KCMP_FILE,
                              (long)kFdInput, g_args.victim_secret_fd));
  report("kcmp-files",
         syscall(SYS_kcmp, (long)getpid(), g_args.victim_pid, (long)KCMP_FILES, 0L, 0L));
  hostile_finish();
  return 0;
}
