/* Read family coverage, read: on the write-only declared sink (fd 3; the
 * harness queued secret bytes towards it, and the kernel would hand them
 * over), on the undeclared secret (fd 7), and on the output pipe's write end
 * (fd 1, declared w). All EBADF; anything read is leaked. */
#include <sys/socket.h>
#include <sys/uio.h>

#include "hostile.h"

/* Small reads: the sink holds several copies of the secret, so that (in an
 * unconfined run) no attempt blocks on an emptied queue. */
static char buf[64];

static long attempt(long fd) { return syscall(SYS_read, fd, buf, sizeof buf); }

int main(int argc, char** argv) {
  hostile_init(argc, argv);
  exfil_buf(buf, report("read-sink", attempt(kFdSink)));
  exfil_buf(buf, report("read-secret", attempt(kFdSecret)));
  exfil_buf(buf, report("read-output", attempt(kFdOutput)));
  exfil_buf(buf, report("read-sink-hi", attempt(kFdSink | HI32)));
  hostile_finish();
  return 0;
}
