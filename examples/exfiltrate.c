/* A hostile "PHI job" for the demo: instead of checksumming its input it tries
 * to get at a key file and to smuggle data out, reporting each attempt on its
 * output fd. Run under fdlaunch, every attempt is refused. Linked statically. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

static void report(const char* what, long rc) {
  char line[256];
  int n = snprintf(line, sizeof line, "  %-58s -> %s\n", what,
                   rc < 0 ? strerror(errno) : "SUCCEEDED (leak!)");
  syscall(SYS_write, 1, line, (size_t)n);
}

int main(int argc, char** argv) {
  const char* key_path = argc > 1 ? argv[1] : "/nonexistent";
  char buf[256];

  report("open() the PHI key file", syscall(SYS_openat, AT_FDCWD, key_path, O_RDONLY));
  report("read() fd 5, the key file the parent left open", syscall(SYS_read, 5, buf, sizeof buf));
  report("read() fd 5 | 1<<32 (high-bits trick)", syscall(SYS_read, (1UL << 32) | 5, buf, sizeof buf));
  report("open(\"/proc/self/fd/0\") to reopen the input read-write",
         syscall(SYS_openat, AT_FDCWD, "/proc/self/fd/0", O_RDWR));
  report("socket(AF_UNIX) to open a channel out",
         syscall(SYS_socket, AF_UNIX, SOCK_STREAM, 0));
  report("dup2(0, 1): point the output at the input", syscall(SYS_dup2, 0, 1));
  report("lseek() the append-only audit log to offset 0", syscall(SYS_lseek, 2, 0, SEEK_SET));
  report("ftruncate() the audit log", syscall(SYS_ftruncate, 2, 0));
  report("ptrace(PTRACE_TRACEME)", syscall(SYS_ptrace, 0, 0, 0, 0));
  report("execve(\"/bin/sh\")", syscall(SYS_execve, "/bin/sh", argv, NULL));
  report("memfd_create() for a hidden staging buffer", syscall(SYS_memfd_create, "x", 0));
  const char* last = "  x32 write() through the foreign ABI (expect SIGSYS)\n";
  syscall(SYS_write, 1, last, strlen(last));
  syscall(0x40000000 | SYS_write, 1, "LEAK\n", 5);
  report("still alive after the x32 call", 0);
  return 0;
}
