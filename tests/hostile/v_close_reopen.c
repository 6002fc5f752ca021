/* Vacate then refill: close declared fds (the input 0, the inherited sink 3,
 * control 4 and duplex 5), then open the secret so the kernel hands out the
 * lowest free number, or make a socket to take a vacated number. close on a
 * declared fd returns 0 WITHOUT closing (the harness checks with kcmp and
 * the inode that every declared number is still the same file); every open
 * and socket is EPERM. Then "input" is read and leaked. */
#include <sys/socket.h>

#include "hostile.h"

int main(int argc, char** argv) {
  hostile_init(argc, argv);
  report("close-input", syscall(SYS_close, kFdInput));
  report("close-sink", syscall(SYS_close, kFdSink));
  report("close-control", syscall(SYS_close, kFdControl));
  report("close-duplex", syscall(SYS_close, kFdDuplex));
  report("close-input-again", syscall(SYS_close, kFdInput));
  report("close-secret", syscall(SYS_close, kFdSecret));
  report("close-unused", syscall(SYS_close, 9L));
  report("open-secret", syscall(SYS_open, g_args.secret_path, (long)O_RDONLY));
  report("openat-secret", syscall(SYS_openat, (long)AT_FDCWD, g_args.secret_path, (long)O_RDONLY));
  report("socket-refill", syscall(SYS_socket, (long)AF_UNIX, (long)SOCK_STREAM, 0L));
  exfil_fd(kFdInput);
  hostile_finish();
  return 0;
}
