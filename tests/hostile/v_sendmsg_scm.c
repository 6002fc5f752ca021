/* Outbound SCM_RIGHTS: sendmsg/sendmmsg on the sink (3) passing the input fd
 * gives the peer a reference to a file the workload was only allowed to read
 * (and a sendmsg with msg_name retargets). EPERM; the harness checks that no
 * fd arrived at the peer. */
#include <sys/socket.h>
#include <sys/uio.h>

#include "hostile.h"

int main(int argc, char** argv) {
  hostile_init(argc, argv);
  char data[] = "PWNED-SENDMSG";
  union {
    char buf[CMSG_SPACE(sizeof(int))];
    struct cmsghdr align;
  } ctl;
  memset(&ctl, 0, sizeof ctl);
  struct iovec iov = {data, sizeof data - 1};
  struct msghdr msg;
  memset(&msg, 0, sizeof msg);
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = ctl.buf;
  msg.msg_controllen = sizeof ctl.buf;
  struct cmsghdr* c = CMSG_FIRSTHDR(&msg);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int));
  int fd = kFdInput;
  memcpy(CMSG_DATA(c), &fd, sizeof fd);
  report("sendmsg-scm-sink", syscall(SYS_sendmsg, (long)kFdSink, &msg, 0L));
  report("sendmsg-scm-duplex", syscall(SYS_sendmsg, (long)kFdDuplex, &msg, 0L));
  struct mmsghdr mm;
  memset(&mm, 0, sizeof mm);
  mm.msg_hdr = msg;
  report("sendmmsg-scm-sink", syscall(SYS_sendmmsg, (long)kFdSink, &mm, 1L, 0L));
  hostile_finish();
  return 0;
}
