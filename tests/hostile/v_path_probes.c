/* Path probes a workload might use to find or reopen data: open and openat
 * of /proc/self/fd/0 (a fresh description of the input, or of whatever the
 * harness left at that number), stat/statx/access of /etc/passwd, open of
 * /etc/passwd, readlink of /proc/self/fd/0. The filter refuses the opens and
 * stats (EPERM) and answers readlink with ENOENT; behind the filter the
 * root is empty, so nothing would resolve anyway. */
#include <sys/stat.h>

#include "hostile.h"

int main(int argc, char** argv) {
  hostile_init(argc, argv);
  long fd = report("open-proc-self-fd0", syscall(SYS_open, "/proc/self/fd/0", (long)O_RDONLY));
  if (fd >= 0) exfil_fd(fd);
  fd = report("openat-proc-self-fd0",
              syscall(SYS_openat, (long)AT_FDCWD, "/proc/self/fd/0", (long)O_RDONLY));
  if (fd >= 0) exfil_fd(fd);
  fd = report("open-etc-passwd", syscall(SYS_open, "/etc/passwd", (long)O_RDONLY));
  if (fd >= 0) exfil_fd(fd);
  struct stat st;
  report("stat-etc-passwd", syscall(SYS_stat, "/etc/passwd", &st));
  report("lstat-etc-passwd", syscall(SYS_lstat, "/etc/passwd", &st));
  report("newfstatat-etc-passwd",
         syscall(SYS_newfstatat, (long)AT_FDCWD, "/etc/passwd", &st, 0L));
  char sx[256];
  report("statx-etc-passwd", syscall(SYS_statx, (long)AT_FDCWD, "/etc/passwd", 0L, 0x7ffL, sx));
  report("access-etc-passwd", syscall(SYS_access, "/etc/passwd", (long)F_OK));
  report("faccessat2-etc-passwd",
         syscall(SYS_faccessat2, (long)AT_FDCWD, "/etc/passwd", (long)F_OK, 0L));
  char link[256];
  report("readlink-proc-self-fd0", syscall(SYS_readlink, "/proc/self/fd/0", link, sizeof link));
  hostile_finish();
  return 0;
}
