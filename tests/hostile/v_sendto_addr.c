/* sendto with a destination address retargets a datagram socket; the filter
 * allows sendto only with dest_addr == NULL compared as 64 bits. Tries a
 * normal address on the sink (3) and duplex (5) sockets, and an address at
 * 0x100000000 (low 32 bits zero, a mapped, valid sockaddr) which fools a
 * low-32 check. EBADF each. sendto(3, .., NULL) is an allowed write. */
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "hostile.h"

int main(int argc, char** argv) {
  hostile_init(argc, argv);
  static const char kMsg[] = "PWNED-SENDTO-ADDR\n";
  struct sockaddr_un sun;
  memset(&sun, 0, sizeof sun);
  sun.sun_family = AF_UNIX;
  snprintf(sun.sun_path, sizeof sun.sun_path, "%s/evil.sock", g_args.scratch_dir);
  report("sendto-sink-addr",
         syscall(SYS_sendto, (long)kFdSink, kMsg, sizeof kMsg - 1, 0L, &sun, (long)sizeof sun));
  report("sendto-duplex-addr",
         syscall(SYS_sendto, (long)kFdDuplex, kMsg, sizeof kMsg - 1, 0L, &sun, (long)sizeof sun));
  void* hi = mmap((void*)HI32, 4096, PROT_READ | PROT_WRITE,
                  MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
  if (hi == (void*)HI32) {
    memcpy(hi, &sun, sizeof sun);
    report("sendto-sink-addr-lo32-zero",
           syscall(SYS_sendto, (long)kFdSink, kMsg, sizeof kMsg - 1, 0L, HI32, (long)sizeof sun));
  } else {
    report("sendto-sink-addr-lo32-zero", -1);
  }
  report("sendto-control-null",
         syscall(SYS_sendto, (long)kFdControl, kMsg, sizeof kMsg - 1, 0L, 0L, 0L));
  report("sendto-sink-null", syscall(SYS_sendto, (long)kFdSink, "sendto-ok\n", 10L, 0L, 0L, 0L));
  hostile_finish();
  return 0;
}
