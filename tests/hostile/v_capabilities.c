/* The launcher runs as root, and a root process gains its whole bounding set
 * at exec; unless the launcher empties it, the workload holds every
 * capability behind the filter. Those matter for syscalls the filter allows:
 * CAP_SYS_ADMIN lets madvise(MADV_HWPOISON) poison page-cache pages shared
 * with the host (not tried here: on failure it would damage the machine),
 * CAP_IPC_LOCK lifts RLIMIT_MEMLOCK. The harness sets RLIMIT_MEMLOCK to
 * 64 KiB, so locking 1 MiB must fail with EAGAIN; the harness reads the
 * capability sets from /proc/PID/status itself. mlock is refused by the
 * filter (EPERM) either way. */
#include <sys/mman.h>

#include "hostile.h"

int main(int argc, char** argv) {
  hostile_init(argc, argv);
  size_t size = 1 << 20;
  void* locked = mmap(NULL, size, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS | MAP_LOCKED | MAP_POPULATE, -1, 0);
  report("map-locked-over-rlimit", locked == MAP_FAILED ? -1 : 0);
  void* plain = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  report("map-plain", plain == MAP_FAILED ? -1 : 0);
  report("mlock", plain == MAP_FAILED ? -1 : syscall(SYS_mlock, plain, size));
  hostile_finish();
  return 0;
}
