/* Append-only log: ftruncate drops the earlier entries, fallocate punches or
 * collapses them. EPERM. */
#include <linux/falloc.h>

#include "hostile.h"

int main(int argc, char** argv) {
  hostile_init(argc, argv);
  report("ftruncate-audit", syscall(SYS_ftruncate, (long)kFdAudit, 0L));
  report("ftruncate-audit-hi", syscall(SYS_ftruncate, (long)kFdAudit | HI32, 0L));
  report("fallocate-punch", syscall(SYS_fallocate, (long)kFdAudit,
                                    (long)(FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE), 0L, 7L));
  report("fallocate-collapse",
         syscall(SYS_fallocate, (long)kFdAudit, (long)FALLOC_FL_COLLAPSE_RANGE, 0L, 4096L));
  hostile_finish();
  return 0;
}
