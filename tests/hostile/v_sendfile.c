/* sendfile(out, in): both fds must be checked. in = undeclared secret (7),
 * in = write-only sink socket (3), out = read-only control pipe (4): EBADF.
 * out = append-only log (2) with in = input passes the filter and the kernel
 * refuses sendfile into O_APPEND files (EINVAL). */
#include "hostile.h"

int main(int argc, char** argv) {
  hostile_init(argc, argv);
  report("sendfile-from-secret", syscall(SYS_sendfile, (long)kFdOutput, (long)kFdSecret, 0L, 512L));
  report("sendfile-from-sink", syscall(SYS_sendfile, (long)kFdOutput, (long)kFdSink, 0L, 512L));
  report("sendfile-to-control", syscall(SYS_sendfile, (long)kFdControl, (long)kFdInput, 0L, 512L));
  long off = 0;
  report("sendfile-to-audit", syscall(SYS_sendfile, (long)kFdAudit, (long)kFdInput, &off, 512L));
  hostile_finish();
  return 0;
}
