/* The workload's view of the file system: its root and cwd are an empty
 * directory. getcwd (allowed) must say "/"; readlink and readlinkat answer
 * ENOENT (the filter's fixed answer, also what the empty root would give).
 * The harness checks independently, through /proc/PID/root and
 * /proc/PID/cwd, that the root is empty and is the cwd. */
#include "hostile.h"

int main(int argc, char** argv) {
  hostile_init(argc, argv);
  char cwd[4096];
  memset(cwd, 0, sizeof cwd);
  long rc = report("getcwd", syscall(SYS_getcwd, cwd, sizeof cwd));
  if (rc >= 0) {
    char line[4200];
    snprintf(line, sizeof line, "INFO cwd=%s\n", cwd);
    say(line);
    errno = EXDEV;
    report("getcwd-is-root", strcmp(cwd, "/") == 0 ? 0 : -1);
  } else {
    report("getcwd-is-root", -1);
  }
  char link[256];
  report("readlink-proc-self-exe", syscall(SYS_readlink, "/proc/self/exe", link, sizeof link));
  report("readlink-root", syscall(SYS_readlink, "/", link, sizeof link));
  report("readlinkat-proc-self-cwd",
         syscall(SYS_readlinkat, (long)AT_FDCWD, "/proc/self/cwd", link, sizeof link));
  report("readlinkat-input-empty",
         syscall(SYS_readlinkat, (long)kFdInput, "", link, sizeof link));
  report("chdir-dotdot", syscall(SYS_chdir, ".."));
  report("chroot-dot", syscall(SYS_chroot, "."));
  hostile_finish();
  return 0;
}
