/* Foreign ABI: x32 write (0x40000000|__NR_write) to the declared read-only
 * control pipe. Must die by SIGSYS. */
#include "hostile.h"

int main(int argc, char** argv) {
  hostile_init(argc, argv);
  static const char kMsg[] = "PWNED-X32-WRITE\n";
  report("x32-write", syscall(0x40000000L | SYS_write, kFdControl, kMsg, sizeof kMsg - 1));
  hostile_finish();
  return 0;
}
