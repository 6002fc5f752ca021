/* Terminal injection: TIOCSTI pushes bytes into a terminal's input queue as
 * if typed (CVE-2017-5226). fd 6 is a pty slave the harness declared "r";
 * ENOTTY on it, on the input, and with high-32 junk in the command. TCGETS on
 * the pty is on the ioctl allowlist and succeeds. */
#include <sys/ioctl.h>
#include <termios.h>

#include "hostile.h"

int main(int argc, char** argv) {
  hostile_init(argc, argv);
  static const char kInject[] = "PWNED";
  long rc = 0;
  for (const char* p = kInject; *p && rc == 0; ++p)
    rc = syscall(SYS_ioctl, (long)kFdExtra, (long)TIOCSTI, p);
  report("tiocsti-pty", rc);
  report("tiocsti-pty-cmd-hi", syscall(SYS_ioctl, (long)kFdExtra, (long)TIOCSTI | HI32, kInject));
  report("tiocsti-input", syscall(SYS_ioctl, (long)kFdInput, (long)TIOCSTI, kInject));
  report("tioclinux-pty", syscall(SYS_ioctl, (long)kFdExtra, (long)TIOCLINUX, kInject));
  struct termios t;
  report("tcgets-pty", syscall(SYS_ioctl, (long)kFdExtra, (long)TCGETS, &t));
  hostile_finish();
  return 0;
}
