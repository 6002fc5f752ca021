/* Write family coverage, pwritev2: on the read-only declared control pipe (fd 4;
 * the harness checks that no byte lands in it), the read-only input (fd 0)
 * and the undeclared secret (fd 7). All EBADF; the fd 4
 * pipe must hold nothing new and the input file must be unchanged. */
#include <sys/socket.h>
#include <sys/uio.h>

#include "hostile.h"

static const char kMsg[] = "PWNED-WRITE-pwritev2\n";

static long attempt(long fd) {
  struct iovec iov = {(void*)kMsg, sizeof kMsg - 1};
  return syscall(SYS_pwritev2, fd, &iov, 1L, -1L, -1L, 0L);
}

int main(int argc, char** argv) {
  hostile_init(argc, argv);
  report("pwritev2-control", attempt(kFdControl));
  report("pwritev2-input", attempt(kFdInput));
  report("pwritev2-secret", attempt(kFdSecret));
  report("pwritev2-control-hi", attempt(kFdControl | HI32));
  /* Any flags on a writable non-append fd are refused (EBADF): RWF_APPEND
   * and RWF_NOAPPEND change where data lands. */
  {
    struct iovec iov = {(void*)"flags\n", 6};
    report("pwritev2-output-flags",
           syscall(SYS_pwritev2, (long)kFdOutput, &iov, 1L, -1L, -1L, (long)RWF_NOAPPEND));
  }
  hostile_finish();
  return 0;
}
