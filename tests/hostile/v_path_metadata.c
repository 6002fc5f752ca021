/* Path-based metadata (row 28): stat/statx the secret by path, readlink of
 * /proc/self/fd/0, access, getdents via the input fd. The contract denies
 * newfstatat/statx always (EPERM), access/getdents64 by default (EPERM), and
 * answers readlink with ENOENT. fstat (nr 5) of a declared fd is allowed. */
#include <sys/stat.h>

#include "hostile.h"

int main(int argc, char** argv) {
  hostile_init(argc, argv);
  struct stat st;
  report("newfstatat-secret", syscall(SYS_newfstatat, (long)AT_FDCWD, g_args.secret_path, &st, 0L));
  report("newfstatat-empty-path",
         syscall(SYS_newfstatat, (long)kFdInput, "", &st, (long)AT_EMPTY_PATH));
  char sx[256];
  report("statx-secret", syscall(SYS_statx, (long)AT_FDCWD, g_args.secret_path, 0L, 0x7ffL, sx));
  char link[256];
  report("readlink-self-fd0", syscall(SYS_readlink, "/proc/self/fd/0", link, sizeof link));
  report("access-secret", syscall(SYS_access, g_args.secret_path, (long)R_OK));
  char dents[512];
  report("getdents64-input", syscall(SYS_getdents64, (long)kFdInput, dents, sizeof dents));
  report("fstat-input", syscall(SYS_fstat, (long)kFdInput, &st));
  report("fstat-secret", syscall(SYS_fstat, (long)kFdSecret, &st));
  hostile_finish();
  return 0;
}
