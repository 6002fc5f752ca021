/* Foreign ABI: x32 numbers (bit 30 set) under AUDIT_ARCH_X86_64. A filter
 * that only matches exact x86_64 numbers would let 0x40000000|dup2 through
 * (on x32 kernels it is dup2). Must die by SIGSYS, even on kernels without
 * x32 (which would return ENOSYS only after seccomp). */
#include "hostile.h"

int main(int argc, char** argv) {
  hostile_init(argc, argv);
  report("x32-dup2", syscall(0x40000000L | SYS_dup2, kFdControl, kFdSink));
  hostile_finish();
  return 0;
}
