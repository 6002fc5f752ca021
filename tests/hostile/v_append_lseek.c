/* Append-only log: lseek to 0 then write. lseek is EPERM on append-only fds;
 * the write (allowed) still appends because O_APPEND holds. */
#include "hostile.h"

int main(int argc, char** argv) {
  hostile_init(argc, argv);
  report("lseek-audit", syscall(SYS_lseek, (long)kFdAudit, 0L, (long)SEEK_SET));
  report("write-audit", syscall(SYS_write, (long)kFdAudit, "OVERWRITE", 9L));
  hostile_finish();
  return 0;
}
