/* /proc/self/fd/N re-open: a new open file description of a declared file,
 * possibly with a wider mode (O_RDWR on the read-only input), or of the
 * undeclared secret by its old number, or of the victim's secret through
 * /proc/PID/fd. open/openat/openat2 are EPERM (and the workload's root is
 * empty, so /proc would not resolve anyway). */
#include <linux/openat2.h>

#include "hostile.h"

static void try_open(const char* label, const char* path, int flags) {
  long fd = report(label, syscall(SYS_open, path, (long)flags));
  if (fd >= 0) exfil_fd(fd);
}

int main(int argc, char** argv) {
  hostile_init(argc, argv);
  char path[64];
  try_open("open-self-fd0", "/proc/self/fd/0", O_RDONLY);
  try_open("open-self-fd0-rdwr", "/proc/self/fd/0", O_RDWR);
  try_open("open-self-fd7", "/proc/self/fd/7", O_RDONLY);
  snprintf(path, sizeof path, "/proc/%ld/fd/%ld", g_args.victim_pid, g_args.victim_secret_fd);
  try_open("open-victim-fd", path, O_RDONLY);
  long fd = report("openat-self-fd2-trunc", syscall(SYS_openat, (long)AT_FDCWD, "/proc/self/fd/2",
                                                    (long)(O_WRONLY | O_TRUNC)));
  if (fd >= 0) exfil_fd(fd);
  struct open_how how;
  memset(&how, 0, sizeof how);
  how.flags = O_RDONLY;
  fd = report("openat2-victim-fd", syscall(SYS_openat2, (long)AT_FDCWD, path, &how, sizeof how));
  if (fd >= 0) exfil_fd(fd);
  hostile_finish();
  return 0;
}
