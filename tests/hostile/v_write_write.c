/* Write family coverage, write: on the read-only declared control pipe (fd 4;
 * the harness checks that no byte lands in it), the read-only input (fd 0)
 * and the undeclared secret (fd 7). All EBADF; the fd 4
 * pipe must hold nothing new and the input file must be unchanged. */
#include <sys/socket.h>
#include <sys/uio.h>

#include "hostile.h"

static const char kMsg[] = "PWNED-WRITE-write\n";

static long attempt(long fd) { return syscall(SYS_write, fd, kMsg, sizeof kMsg - 1); }

int main(int argc, char** argv) {
  hostile_init(argc, argv);
  report("write-control", attempt(kFdControl));
  report("write-input", attempt(kFdInput));
  report("write-secret", attempt(kFdSecret));
  report("write-control-hi", attempt(kFdControl | HI32));
  hostile_finish();
  return 0;
}
