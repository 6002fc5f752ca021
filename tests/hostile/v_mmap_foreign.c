/* mmap of an fd that is not declared readable: the undeclared secret (7),
 * the write-only audit log (2, a MAP_SHARED writable mapping would bypass
 * append-only), the output pipe (1), the write-only sink socket (3): EBADF.
 * A shared writable mapping of the read-only input (0) passes the filter
 * (0 is readable) and is refused by the kernel (EACCES); a private read-only
 * mapping of the input is legitimate. */
#include <sys/mman.h>

#include "hostile.h"

static long try_map(const char* label, long fd, int prot, int flags) {
  long p = report(label, syscall(SYS_mmap, 0L, 4096L, (long)prot, (long)flags, fd, 0L));
  if (p > 0) {
    exfil_buf((const void*)p, 64);
    if (prot & PROT_WRITE) memcpy((void*)p, "OVERWRITE", 9);
  }
  return p;
}

int main(int argc, char** argv) {
  hostile_init(argc, argv);
  try_map("mmap-secret", kFdSecret, PROT_READ, MAP_PRIVATE);
  try_map("mmap-secret-hi", kFdSecret | HI32, PROT_READ, MAP_PRIVATE);
  try_map("mmap-audit-shared", kFdAudit, PROT_READ | PROT_WRITE, MAP_SHARED);
  try_map("mmap-output", kFdOutput, PROT_READ, MAP_PRIVATE);
  try_map("mmap-sink", kFdSink, PROT_READ, MAP_SHARED);
  try_map("mmap-input-shared-write", kFdInput, PROT_READ | PROT_WRITE, MAP_SHARED);
  try_map("mmap-input-private", kFdInput, PROT_READ, MAP_PRIVATE);
  hostile_finish();
  return 0;
}
