/* io_uring: reads submitted through a ring never pass through the read
 * syscall the filter checks. Set up a ring (raw syscalls), map it, queue an
 * IORING_OP_READ of the write-only sink (fd 3, whose queue holds secret
 * bytes) and leak the result. io_uring_setup/enter/register are EPERM; the
 * later steps then fail on their own. */
#include <linux/io_uring.h>
#include <sys/mman.h>

#include "hostile.h"

int main(int argc, char** argv) {
  hostile_init(argc, argv);
  struct io_uring_params p;
  memset(&p, 0, sizeof p);
  long ring = report("io-uring-setup", syscall(SYS_io_uring_setup, 4L, &p));
  report("io-uring-enter-guess",
         syscall(SYS_io_uring_enter, 8L, 1L, 1L, (long)IORING_ENTER_GETEVENTS, 0L, 0L));
  report("io-uring-register-guess",
         syscall(SYS_io_uring_register, 8L, (long)IORING_REGISTER_PROBE, 0L, 0L));
  if (ring >= 0) {
    size_t sq_sz = p.sq_off.array + p.sq_entries * sizeof(unsigned);
    size_t cq_sz = p.cq_off.cqes + p.cq_entries * sizeof(struct io_uring_cqe);
    char* sq = mmap(NULL, sq_sz, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, (int)ring,
                    IORING_OFF_SQ_RING);
    char* cq = mmap(NULL, cq_sz, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, (int)ring,
                    IORING_OFF_CQ_RING);
    struct io_uring_sqe* sqes =
        mmap(NULL, p.sq_entries * sizeof(struct io_uring_sqe), PROT_READ | PROT_WRITE,
             MAP_SHARED | MAP_POPULATE, (int)ring, IORING_OFF_SQES);
    if (sq != MAP_FAILED && cq != MAP_FAILED && sqes != MAP_FAILED) {
      static char buf[512];
      unsigned* tail = (unsigned*)(sq + p.sq_off.tail);
      unsigned* array = (unsigned*)(sq + p.sq_off.array);
      unsigned mask = *(unsigned*)(sq + p.sq_off.ring_mask);
      unsigned idx = *tail & mask;
      memset(&sqes[idx], 0, sizeof sqes[idx]);
      sqes[idx].opcode = IORING_OP_READ;
      sqes[idx].fd = kFdSink;
      sqes[idx].addr = (unsigned long)buf;
      sqes[idx].len = sizeof buf;
      array[idx] = idx;
      __atomic_store_n(tail, *tail + 1, __ATOMIC_RELEASE);
      long got = syscall(SYS_io_uring_enter, ring, 1L, 1L, (long)IORING_ENTER_GETEVENTS, 0L, 0L);
      struct io_uring_cqe* cqes = (struct io_uring_cqe*)(cq + p.cq_off.cqes);
      unsigned head = *(unsigned*)(cq + p.cq_off.head);
      int res = cqes[head & *(unsigned*)(cq + p.cq_off.ring_mask)].res;
      report("io-uring-read-sink", got < 0 ? -1 : (res < 0 ? (errno = -res, -1L) : res));
      exfil_buf(buf, res);
    } else {
      report("io-uring-mmap", -1);
    }
  }
  hostile_finish();
  return 0;
}
