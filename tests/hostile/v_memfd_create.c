/* memfd_create / memfd_secret create fds (a fresh number the workload could
 * later pass off as something else). EPERM. */
#include "hostile.h"

#ifndef SYS_memfd_secret
#define SYS_memfd_secret 447
#endif

int main(int argc, char** argv) {
  hostile_init(argc, argv);
  report("memfd-create", syscall(SYS_memfd_create, "evil", 0L));
  report("memfd-secret", syscall(SYS_memfd_secret, 0L));
  hostile_finish();
  return 0;
}
