/* Write family coverage, pwritev: on the read-only declared control pipe (fd 4;
 * the harness checks that no byte lands in it), the read-only input (fd 0)
 * and the undeclared secret (fd 7). All EBADF; the fd 4
 * pipe must hold nothing new and the input file must be unchanged. */
#include <sys/socket.h>
#include <sys/uio.h>

#include "hostile.h"

static const char kMsg[] = "PWNED-WRITE-pwritev\n";

static long attempt(long fd) {
  struct iovec iov = {(void*)kMsg, sizeof kMsg - 1};
  return syscall(SYS_pwritev, fd, &iov, 1L, 0L, 0L);
}

int main(int argc, char** argv) {
  hostile_init(argc, argv);
  report("pwritev-control", attempt(kFdControl));
  report("pwritev-input", attempt(kFdInput));
  report("pwritev-secret", attempt(kFdSecret));
  report("pwritev-control-hi", attempt(kFdControl | HI32));
  /* Positioned write on the append-only log: EBADF (not open for
   * positional writes); the harness checks the earlier entries survive. */
  report("pwritev-audit", attempt(kFdAudit));
  hostile_finish();
  return 0;
}
