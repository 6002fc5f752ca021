/* ioctl with high-32 junk in the command (the kernel takes unsigned int cmd)
 * or in the fd: TIOCSTI | 1<<32 is TIOCSTI, FIOCLEX | 1<<32 is FIOCLEX. Only
 * a low-32 allowlist is sound; everything here is ENOTTY. */
#include <sys/ioctl.h>

#include "hostile.h"

int main(int argc, char** argv) {
  hostile_init(argc, argv);
  char c = 'x';
  report("tiocsti-cmd-hi", syscall(SYS_ioctl, kFdInput, (long)TIOCSTI | HI32, &c));
  report("fioclex-fd-hi", syscall(SYS_ioctl, kFdInput | HI32, (long)FIOCLEX, 0L));
  report("fioclex-cmd-hi", syscall(SYS_ioctl, kFdSink, (long)FIOCLEX | HI32, 0L));
  report("fionclex-cmd-hi", syscall(SYS_ioctl, kFdOutput, (long)FIONCLEX | HI32, 0L));
  hostile_finish();
  return 0;
}
