/* New sockets: a unix socket to connect anywhere, an inet socket to send the
 * data off the host, a socketpair. EPERM. */
#include <sys/socket.h>

#include "hostile.h"

int main(int argc, char** argv) {
  hostile_init(argc, argv);
  report("socket-unix", syscall(SYS_socket, (long)AF_UNIX, (long)SOCK_STREAM, 0L));
  report("socket-inet", syscall(SYS_socket, (long)AF_INET, (long)SOCK_DGRAM, 0L));
  report("socket-netlink", syscall(SYS_socket, (long)AF_NETLINK, (long)SOCK_RAW, 0L));
  int sv[2];
  report("socketpair", syscall(SYS_socketpair, (long)AF_UNIX, (long)SOCK_STREAM, 0L, sv));
  hostile_finish();
  return 0;
}
