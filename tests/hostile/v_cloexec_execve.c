/* Vacate via close-on-exec: set FD_CLOEXEC on declared fds, then exec another
 * program, which would start with those numbers free. F_SETFD is EPERM and
 * execve is EPERM. */
#include "hostile.h"

int main(int argc, char** argv) {
  hostile_init(argc, argv);
  report("setfd-input", syscall(SYS_fcntl, kFdInput, (long)F_SETFD, (long)FD_CLOEXEC));
  report("setfd-sink", syscall(SYS_fcntl, kFdSink, (long)F_SETFD, (long)FD_CLOEXEC));
  char path[4096];
  hostile_bin(path, sizeof path, "helper_exec_target");
  char* args[] = {path, NULL};
  char* env[] = {NULL};
  report("execve", syscall(SYS_execve, path, args, env));
  hostile_finish();
  return 0;
}
