/* Write family coverage, writev: on the read-only declared control pipe (fd 4;
 * the harness checks that no byte lands in it), the read-only input (fd 0)
 * and the undeclared secret (fd 7). All EBADF; the fd 4
 * pipe must hold nothing new and the input file must be unchanged. */
#include <sys/socket.h>
#include <sys/uio.h>

#include "hostile.h"

static const char kMsg[] = "PWNED-WRITE-writev\n";

static long attempt(long fd) {
  struct iovec iov = {(void*)kMsg, sizeof kMsg - 1};
  return syscall(SYS_writev, fd, &iov, 1L);
}

int main(int argc, char** argv) {
  hostile_init(argc, argv);
  report("writev-control", attempt(kFdControl));
  report("writev-input", attempt(kFdInput));
  report("writev-secret", attempt(kFdSecret));
  report("writev-control-hi", attempt(kFdControl | HI32));
  hostile_finish();
  return 0;
}
