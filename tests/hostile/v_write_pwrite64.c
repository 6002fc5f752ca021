/* Write family coverage, pwrite64: on the read-only declared control pipe (fd 4;
 * the harness checks that no byte lands in it), the read-only input (fd 0)
 * and the undeclared secret (fd 7). All EBADF; the fd 4
 * pipe must hold nothing new and the input file must be unchanged. */
#include <sys/socket.h>
#include <sys/uio.h>

#include "hostile.h"

static const char kMsg[] = "PWNED-WRITE-pwrite64\n";

static long attempt(long fd) { return syscall(SYS_pwrite64, fd, kMsg, sizeof kMsg - 1, 0L); }

int main(int argc, char** argv) {
  hostile_init(argc, argv);
  report("pwrite64-control", attempt(kFdControl));
  report("pwrite64-input", attempt(kFdInput));
  report("pwrite64-secret", attempt(kFdSecret));
  report("pwrite64-control-hi", attempt(kFdControl | HI32));
  /* Positioned write on the append-only log: EBADF (not open for
   * positional writes); the harness checks the earlier entries survive. */
  report("pwrite64-audit", attempt(kFdAudit));
  hostile_finish();
  return 0;
}
