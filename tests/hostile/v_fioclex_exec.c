/* Vacate via close-on-exec through ioctl: FIOCLEX sets FD_CLOEXEC without
 * fcntl. ENOTTY (ioctl command allowlist), then execve EPERM. */
#include <sys/ioctl.h>

#include "hostile.h"

int main(int argc, char** argv) {
  hostile_init(argc, argv);
  report("fioclex-input", syscall(SYS_ioctl, kFdInput, (long)FIOCLEX, 0L));
  report("fioclex-sink", syscall(SYS_ioctl, kFdSink, (long)FIOCLEX, 0L));
  report("fionclex-output", syscall(SYS_ioctl, kFdOutput, (long)FIONCLEX, 0L));
  char path[4096];
  hostile_bin(path, sizeof path, "helper_exec_target");
  char* args[] = {path, NULL};
  char* env[] = {NULL};
  report("execve", syscall(SYS_execve, path, args, env));
  hostile_finish();
  return 0;
}
