/* SCM_RIGHTS against an allowed read: recvfrom on the readable duplex socket
 * (5) is a plain read; the kernel drops passed fds when the receiver offers
 * no control buffer. The read succeeds with the harness's bytes, and the fd
 * table must stay exactly the declared one. */
#include <sys/socket.h>

#include "hostile.h"

int main(int argc, char** argv) {
  hostile_init(argc, argv);
  char data[64];
  report("recvfrom-duplex",
         syscall(SYS_recvfrom, (long)kFdDuplex, data, sizeof data, (long)MSG_DONTWAIT, 0L, 0L));
  for (long fd = 6; fd < 16; ++fd) exfil_fd(fd);
  hostile_finish();
  return 0;
}
