/* Every other fd-creating syscall (row 13 of the bypass table): each would
 * put a new number in the table. EPERM each; the harness checks that only the
 * declared numbers exist. Arguments are valid so that an allowed call would
 * succeed. */
#include <linux/aio_abi.h>
#include <linux/perf_event.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/socket.h>
#include <sys/timerfd.h>

#include "hostile.h"

int main(int argc, char** argv) {
  hostile_init(argc, argv);
  int p[2];
  report("pipe", syscall(SYS_pipe, p));
  report("pipe2", syscall(SYS_pipe2, p, (long)O_CLOEXEC));
  report("eventfd2", syscall(SYS_eventfd2, 0L, 0L));
  report("epoll-create1", syscall(SYS_epoll_create1, 0L));
  report("inotify-init1", syscall(SYS_inotify_init1, 0L));
  unsigned long mask = 1UL << (SIGUSR1 - 1);
  report("signalfd4", syscall(SYS_signalfd4, -1L, &mask, 8L, 0L));
  report("timerfd-create", syscall(SYS_timerfd_create, (long)CLOCK_MONOTONIC, 0L));
  report("userfaultfd", syscall(SYS_userfaultfd, 0L));
  struct perf_event_attr attr;
  memset(&attr, 0, sizeof attr);
  attr.size = sizeof attr;
  attr.type = PERF_TYPE_SOFTWARE;
  attr.config = PERF_COUNT_SW_TASK_CLOCK;
  report("perf-event-open", syscall(SYS_perf_event_open, &attr, 0L, -1L, -1L, 0L));
  report("fanotify-init", syscall(SYS_fanotify_init, 0L, 0L));
  report("fsopen", syscall(SYS_fsopen, "tmpfs", 0L));
  report("open-tree", syscall(SYS_open_tree, (long)AT_FDCWD, "/", 1L /* OPEN_TREE_CLONE */));
  report("fspick", syscall(SYS_fspick, (long)AT_FDCWD, "/", 0L));
  aio_context_t ctx = 0;
  report("io-setup", syscall(SYS_io_setup, 8L, &ctx));
  report("accept4-duplex", syscall(SYS_accept4, (long)kFdDuplex, 0L, 0L, (long)SOCK_NONBLOCK));
  report("bpf-map-create", syscall(SYS_bpf, 0L /* BPF_MAP_CREATE */, &attr, 48L));
  hostile_finish();
  return 0;
}
