/* Retarget a declared socket: connect the duplex/sink sockets to another
 * address (the harness listens on SCRATCH/evil.sock and checks no connection
 * arrives), bind them, listen, shut them down, change their options. EPERM
 * each. */
#include <sys/socket.h>
#include <sys/un.h>

#include "hostile.h"

int main(int argc, char** argv) {
  hostile_init(argc, argv);
  struct sockaddr_un sun;
  memset(&sun, 0, sizeof sun);
  sun.sun_family = AF_UNIX;
  snprintf(sun.sun_path, sizeof sun.sun_path, "%s/evil.sock", g_args.scratch_dir);
  report("connect-duplex", syscall(SYS_connect, (long)kFdDuplex, &sun, (long)sizeof sun));
  report("connect-sink", syscall(SYS_connect, (long)kFdSink, &sun, (long)sizeof sun));
  struct sockaddr_un other = sun;
  snprintf(other.sun_path, sizeof other.sun_path, "%s/bound.sock", g_args.scratch_dir);
  report("bind-duplex", syscall(SYS_bind, (long)kFdDuplex, &other, (long)sizeof other));
  report("listen-duplex", syscall(SYS_listen, (long)kFdDuplex, 1L));
  report("shutdown-sink", syscall(SYS_shutdown, (long)kFdSink, (long)SHUT_RDWR));
  report("connect-sink-hi", syscall(SYS_connect, (long)kFdSink | HI32, &sun, (long)sizeof sun));
  int on = 1;
  report("setsockopt-duplex", syscall(SYS_setsockopt, (long)kFdDuplex, (long)SOL_SOCKET,
                                      (long)SO_PASSCRED, &on, (long)sizeof on));
  hostile_finish();
  return 0;
}
