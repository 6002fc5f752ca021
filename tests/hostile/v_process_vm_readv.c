/* Read another process's memory: process_vm_readv of the victim's copy of the
 * secret bytes (address from the harness), process_vm_writev into it, and
 * process_madvise on it (through a guessed pidfd number). EPERM. */
#include <sys/uio.h>

#include "hostile.h"

int main(int argc, char** argv) {
  hostile_init(argc, argv);
  char buf[64];
  struct iovec local = {buf, sizeof buf};
  struct iovec remote = {(void*)g_args.victim_secret_addr, 39};
  long n = report("process-vm-readv",
                  syscall(SYS_process_vm_readv, g_args.victim_pid, &local, 1L, &remote, 1L, 0L));
  exfil_buf(buf, n);
  struct iovec src = {(void*)"PWNED-VM-WRITEV", 15};
  report("process-vm-writev",
         syscall(SYS_process_vm_writev, g_args.victim_pid, &src, 1L, &remote, 1L, 0L));
  struct iovec range = {(void*)(g_args.victim_secret_addr & ~4095UL), 4096};
  report("process-madvise", syscall(SYS_process_madvise, 0L, &range, 1L, 20L /* MADV_COLD */, 0L));
  hostile_finish();
  return 0;
}
