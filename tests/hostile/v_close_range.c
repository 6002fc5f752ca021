/* close_range: vacate declared numbers in bulk, or mark them close-on-exec
 * (CLOSE_RANGE_CLOEXEC), or unshare the table. Always EPERM. */
#include <linux/close_range.h>

#include "hostile.h"

int main(int argc, char** argv) {
  hostile_init(argc, argv);
  report("close-range-all", syscall(SYS_close_range, 0L, 0xffffffffL, 0L));
  report("close-range-sink", syscall(SYS_close_range, (long)kFdSink, (long)kFdSink, 0L));
  report("close-range-cloexec",
         syscall(SYS_close_range, 0L, 0xffffffffL, (long)CLOSE_RANGE_CLOEXEC));
  report("close-range-unshare",
         syscall(SYS_close_range, 8L, 0xffffffffL, (long)CLOSE_RANGE_UNSHARE));
  report("open-secret", syscall(SYS_open, g_args.secret_path, (long)O_RDONLY));
  hostile_finish();
  return 0;
}
