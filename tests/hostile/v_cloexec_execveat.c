/* As v_cloexec_execve, but exec through execveat (path relative to AT_FDCWD,
 * and AT_EMPTY_PATH on a declared fd). F_SETFD EPERM, execveat EPERM. */
#include "hostile.h"

int main(int argc, char** argv) {
  hostile_init(argc, argv);
  report("setfd-output", syscall(SYS_fcntl, kFdOutput, (long)F_SETFD, (long)FD_CLOEXEC));
  char path[4096];
  hostile_bin(path, sizeof path, "helper_exec_target");
  char* args[] = {path, NULL};
  char* env[] = {NULL};
  report("execveat-cwd", syscall(SYS_execveat, (long)AT_FDCWD, path, args, env, 0L));
  report("execveat-declared-fd",
         syscall(SYS_execveat, (long)kFdInput, "", args, env, (long)AT_EMPTY_PATH));
  hostile_finish();
  return 0;
}
