/* SCM_RIGHTS: the harness sent the secret's fd (plus a few bytes) over the
 * peer of the duplex socket (5, rw) and of the sink (3, w). recvmsg would
 * install it as a new fd in our table. recvmsg/recvmmsg are EPERM; whatever
 * arrives is read and leaked. The harness checks the fd table afterwards. */
#include <sys/socket.h>
#include <sys/uio.h>

#include "hostile.h"

static long try_recvmsg(const char* label, long fd) {
  char data[64];
  union {
    char buf[CMSG_SPACE(sizeof(int) * 4)];
    struct cmsghdr align;
  } ctl;
  struct iovec iov = {data, sizeof data};
  struct msghdr msg;
  memset(&msg, 0, sizeof msg);
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = ctl.buf;
  msg.msg_controllen = sizeof ctl.buf;
  long rc = report(label, syscall(SYS_recvmsg, fd, &msg, (long)MSG_DONTWAIT));
  if (rc >= 0) {
    for (struct cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
      if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
        int got;
        memcpy(&got, CMSG_DATA(c), sizeof got);
        exfil_fd(got);
      }
    }
  }
  return rc;
}

int main(int argc, char** argv) {
  hostile_init(argc, argv);
  try_recvmsg("recvmsg-duplex", kFdDuplex);
  try_recvmsg("recvmsg-sink", kFdSink);
  {
    char data[64];
    char ctl[CMSG_SPACE(sizeof(int))];
    struct iovec iov = {data, sizeof data};
    struct mmsghdr mm;
    memset(&mm, 0, sizeof mm);
    mm.msg_hdr.msg_iov = &iov;
    mm.msg_hdr.msg_iovlen = 1;
    mm.msg_hdr.msg_control = ctl;
    mm.msg_hdr.msg_controllen = sizeof ctl;
    report("recvmmsg-duplex",
           syscall(SYS_recvmmsg, (long)kFdDuplex, &mm, 1L, (long)MSG_DONTWAIT, 0L));
  }
  /* The secret used to be at fd 7; the lowest free numbers are 6 and up. */
  for (long fd = 6; fd < 16; ++fd) exfil_fd(fd);
  hostile_finish();
  return 0;
}
