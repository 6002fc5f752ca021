/* Append-only log: F_SETFL without O_APPEND would let the next write land at
 * the file position (0 after the launcher's open) and overwrite the earlier
 * entries. F_SETFL is EPERM; the following write still appends. */
#include "hostile.h"

int main(int argc, char** argv) {
  hostile_init(argc, argv);
  report("setfl-clear-append", syscall(SYS_fcntl, (long)kFdAudit, (long)F_SETFL, 0L));
  report("setfl-clear-append-hi", syscall(SYS_fcntl, (long)kFdAudit | HI32, (long)F_SETFL, 0L));
  report("write-audit", syscall(SYS_write, (long)kFdAudit, "OVERWRITE", 9L));
  hostile_finish();
  return 0;
}
