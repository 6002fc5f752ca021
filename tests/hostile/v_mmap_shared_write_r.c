/* mmap is allowed for every fd declared readable. If a descriptor declared
 * "r" were open O_RDWR, MAP_SHARED|PROT_WRITE would write the file: a write
 * through an fd the profile says is read-only, invisible to the write-family
 * rules. The launcher therefore accepts only exactly-O_RDONLY descriptors for
 * "r" (the harness's O_RDWR variant must be refused at launch, so this never
 * runs), and on the O_RDONLY one the kernel refuses the shared writable
 * mapping (EACCES). The harness checks the file is unchanged. A private
 * read-only mapping of it is legitimate. */
#include <sys/mman.h>

#include "hostile.h"

int main(int argc, char** argv) {
  hostile_init(argc, argv);
  long p =
      report("mmap-extra-shared-write", syscall(SYS_mmap, 0L, 4096L, (long)(PROT_READ | PROT_WRITE),
                                                (long)MAP_SHARED, (long)kFdExtra, 0L));
  if (p > 0) {
    memcpy((void*)p, "PWNED-MMAP", 10);
    syscall(SYS_msync, p, 4096L, (long)MS_SYNC);
  }
  p = report("mmap-extra-shared-read",
             syscall(SYS_mmap, 0L, 4096L, (long)PROT_READ, (long)MAP_SHARED, (long)kFdExtra, 0L));
  if (p > 0) {
    /* Upgrading a shared read-only mapping of an O_RDONLY file: EACCES. */
    report("mprotect-shared-write", syscall(SYS_mprotect, p, 4096L, (long)(PROT_READ | PROT_WRITE)));
    /* Punching a hole through a shared read-only mapping: EACCES. */
    report("madvise-remove", syscall(SYS_madvise, p, 4096L, (long)MADV_REMOVE));
  } else {
    report("mprotect-shared-write", -1);
    report("madvise-remove", -1);
  }
  hostile_finish();
  return 0;
}
