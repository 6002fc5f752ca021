/* High-32 junk in the fd or command of the append-only and mapping rules:
 * lseek(2 | 1<<32) on the append-only log (EPERM), pwrite64(2 | 1<<32) on it
 * (EBADF), fcntl(2, F_SETFL | 1<<32) (EPERM), mmap of fd 2 | 1<<32 (not
 * readable: EBADF), pread64(3 | 1<<32) on the write-only sink (EBADF). */
#include <sys/mman.h>

#include "hostile.h"

int main(int argc, char** argv) {
  hostile_init(argc, argv);
  static const char kMsg[] = "OVERWRITE";
  char buf[256];
  report("lseek-audit-hi", syscall(SYS_lseek, kFdAudit | HI32, 0L, (long)SEEK_SET));
  report("pwrite64-audit-hi", syscall(SYS_pwrite64, kFdAudit | HI32, kMsg, sizeof kMsg - 1, 0L));
  report("setfl-cmd-hi", syscall(SYS_fcntl, kFdAudit, (long)F_SETFL | HI32, 0L));
  long p = report("mmap-audit-hi", syscall(SYS_mmap, 0L, 4096L, (long)(PROT_READ | PROT_WRITE),
                                           (long)MAP_SHARED, kFdAudit | HI32, 0L));
  if (p > 0) memcpy((void*)p, kMsg, sizeof kMsg - 1);
  long n = report("pread64-sink-hi", syscall(SYS_pread64, kFdSink | HI32, buf, sizeof buf, 0L));
  exfil_buf(buf, n);
  hostile_finish();
  return 0;
}
