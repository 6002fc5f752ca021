#include "common/bpf_names.h"

#include <fcntl.h>
#include <linux/sched.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <termios.h>

#include <map>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/syscall_names.h"

namespace fdattest {
namespace {

// Argument names of the syscalls filters most often test, comma-separated.
const std::map<uint32_t, const char*>& Signatures() {
  static const std::map<uint32_t, const char*> m = {
      {SYS_read, "fd,buf,count"},
      {SYS_write, "fd,buf,count"},
      {SYS_readv, "fd,iov,iovcnt"},
      {SYS_writev, "fd,iov,iovcnt"},
      {SYS_pread64, "fd,buf,count,offset"},
      {SYS_pwrite64, "fd,buf,count,offset"},
      {SYS_preadv, "fd,iov,iovcnt,pos_l,pos_h"},
      {SYS_pwritev, "fd,iov,iovcnt,pos_l,pos_h"},
      {SYS_preadv2, "fd,iov,iovcnt,pos_l,pos_h,flags"},
      {SYS_pwritev2, "fd,iov,iovcnt,pos_l,pos_h,flags"},
      {SYS_recvfrom, "fd,buf,len,flags,src_addr,addrlen"},
      {SYS_sendto, "fd,buf,len,flags,dest_addr,addrlen"},
      {SYS_sendmsg, "fd,msg,flags"},
      {SYS_recvmsg, "fd,msg,flags"},
      {SYS_sendfile, "out_fd,in_fd,offset,count"},
      {SYS_splice, "fd_in,off_in,fd_out,off_out,len,flags"},
      {SYS_tee, "fd_in,fd_out,len,flags"},
      {SYS_copy_file_range, "fd_in,off_in,fd_out,off_out,len,flags"},
      {SYS_vmsplice, "fd,iov,nr_segs,flags"},
      {SYS_mmap, "addr,length,prot,flags,fd,offset"},
      {SYS_mprotect, "addr,length,prot"},
      {SYS_fstat, "fd,statbuf"},
      {SYS_lseek, "fd,offset,whence"},
      {SYS_fsync, "fd"},
      {SYS_fdatasync, "fd"},
      {SYS_ioctl, "fd,cmd,arg"},
      {SYS_fcntl, "fd,cmd,arg"},
      {SYS_close, "fd"},
      {SYS_dup, "fd"},
      {SYS_dup2, "oldfd,newfd"},
      {SYS_dup3, "oldfd,newfd,flags"},
      {SYS_ftruncate, "fd,length"},
      {SYS_fallocate, "fd,mode,offset,len"},
      {SYS_fchmod, "fd,mode"},
      {SYS_fchown, "fd,owner,group"},
      {SYS_fstatfs, "fd,buf"},
      {SYS_getdents64, "fd,dirp,count"},
      {SYS_flock, "fd,operation"},
      {SYS_fchdir, "fd"},
      {SYS_connect, "fd,addr,addrlen"},
      {SYS_bind, "fd,addr,addrlen"},
      {SYS_listen, "fd,backlog"},
      {SYS_accept, "fd,addr,addrlen"},
      {SYS_accept4, "fd,addr,addrlen,flags"},
      {SYS_shutdown, "fd,how"},
      {SYS_getsockopt, "fd,level,optname,optval,optlen"},
      {SYS_setsockopt, "fd,level,optname,optval,optlen"},
      {SYS_socket, "domain,type,protocol"},
      {SYS_socketpair, "domain,type,protocol,sv"},
      {SYS_epoll_ctl, "epfd,op,fd,event"},
      {SYS_clone, "flags,stack,parent_tid,child_tid,tls"},
      {SYS_unshare, "flags"},
      {SYS_execveat, "fd,pathname,argv,envp,flags"},
      {SYS_prctl, "option,arg2,arg3,arg4,arg5"},
      {SYS_prlimit64, "pid,resource,new_limit,old_limit"},
      {SYS_kill, "pid,sig"},
      {SYS_tgkill, "tgid,tid,sig"},
      {SYS_tkill, "tid,sig"},
      {SYS_openat, "dirfd,pathname,flags,mode"},
      {SYS_open, "pathname,flags,mode"},
      {SYS_futex, "uaddr,futex_op,val,timeout,uaddr2,val3"},
      {SYS_madvise, "addr,length,advice"},
      {SYS_personality, "persona"},
      {SYS_clock_gettime, "clockid,tp"},
      {SYS_getrandom, "buf,buflen,flags"}};
  return m;
}

using Names = std::vector<std::pair<uint64_t, const char*>>;

// Named values of one argument.
const Names* ValueNames(uint32_t nr, int arg) {
  static const Names fcntl_cmds = {
      {F_DUPFD, "F_DUPFD"}, {F_GETFD, "F_GETFD"},   {F_SETFD, "F_SETFD"},
      {F_GETFL, "F_GETFL"}, {F_SETFL, "F_SETFL"},   {F_GETLK, "F_GETLK"},
      {F_SETLK, "F_SETLK"}, {F_SETLKW, "F_SETLKW"}, {F_DUPFD_CLOEXEC, "F_DUPFD_CLOEXEC"}};
  static const Names ioctl_cmds = {
      {TCGETS, "TCGETS"},         {TCSETS, "TCSETS"},       {TIOCGWINSZ, "TIOCGWINSZ"},
      {TIOCSWINSZ, "TIOCSWINSZ"}, {TIOCGPGRP, "TIOCGPGRP"}, {TIOCSPGRP, "TIOCSPGRP"},
      {FIONREAD, "FIONREAD"},     {FIONBIO, "FIONBIO"},     {FIOCLEX, "FIOCLEX"},
      {FIONCLEX, "FIONCLEX"},     {TIOCSTI, "TIOCSTI"}};
  static const Names prctl_options = {{PR_SET_NAME, "PR_SET_NAME"},
                                      {PR_GET_NAME, "PR_GET_NAME"},
                                      {PR_SET_DUMPABLE, "PR_SET_DUMPABLE"},
                                      {PR_GET_DUMPABLE, "PR_GET_DUMPABLE"},
                                      {PR_SET_NO_NEW_PRIVS, "PR_SET_NO_NEW_PRIVS"},
                                      {PR_SET_SECCOMP, "PR_SET_SECCOMP"},
                                      {PR_SET_PDEATHSIG, "PR_SET_PDEATHSIG"},
                                      {PR_CAPBSET_READ, "PR_CAPBSET_READ"}};
  static const Names at_flags = {{AT_EMPTY_PATH, "AT_EMPTY_PATH"}};
  if (nr == SYS_fcntl && arg == 1) return &fcntl_cmds;
  if (nr == SYS_ioctl && arg == 1) return &ioctl_cmds;
  if (nr == SYS_prctl && arg == 0) return &prctl_options;
  if (nr == SYS_execveat && arg == 4) return &at_flags;
  return nullptr;
}

// Named flag bits of one argument.
const Names* BitNames(uint32_t nr, int arg) {
  static const Names clone_flags = {{CLONE_VM, "CLONE_VM"},
                                    {CLONE_FS, "CLONE_FS"},
                                    {CLONE_FILES, "CLONE_FILES"},
                                    {CLONE_SIGHAND, "CLONE_SIGHAND"},
                                    {CLONE_PIDFD, "CLONE_PIDFD"},
                                    {CLONE_PTRACE, "CLONE_PTRACE"},
                                    {CLONE_VFORK, "CLONE_VFORK"},
                                    {CLONE_PARENT, "CLONE_PARENT"},
                                    {CLONE_THREAD, "CLONE_THREAD"},
                                    {CLONE_NEWNS, "CLONE_NEWNS"},
                                    {CLONE_SYSVSEM, "CLONE_SYSVSEM"},
                                    {CLONE_SETTLS, "CLONE_SETTLS"},
                                    {CLONE_PARENT_SETTID, "CLONE_PARENT_SETTID"},
                                    {CLONE_CHILD_CLEARTID, "CLONE_CHILD_CLEARTID"},
                                    {CLONE_DETACHED, "CLONE_DETACHED"},
                                    {CLONE_UNTRACED, "CLONE_UNTRACED"},
                                    {CLONE_CHILD_SETTID, "CLONE_CHILD_SETTID"},
                                    {CLONE_NEWCGROUP, "CLONE_NEWCGROUP"},
                                    {CLONE_NEWUTS, "CLONE_NEWUTS"},
                                    {CLONE_NEWIPC, "CLONE_NEWIPC"},
                                    {CLONE_NEWUSER, "CLONE_NEWUSER"},
                                    {CLONE_NEWPID, "CLONE_NEWPID"},
                                    {CLONE_NEWNET, "CLONE_NEWNET"},
                                    {CLONE_IO, "CLONE_IO"}};
  static const Names mmap_flags = {
      {MAP_SHARED, "MAP_SHARED"},       {MAP_PRIVATE, "MAP_PRIVATE"},
      {MAP_FIXED, "MAP_FIXED"},         {MAP_ANONYMOUS, "MAP_ANONYMOUS"},
      {MAP_GROWSDOWN, "MAP_GROWSDOWN"}, {MAP_NORESERVE, "MAP_NORESERVE"},
      {MAP_POPULATE, "MAP_POPULATE"},   {MAP_STACK, "MAP_STACK"}};
  static const Names prot_bits = {
      {PROT_READ, "PROT_READ"}, {PROT_WRITE, "PROT_WRITE"}, {PROT_EXEC, "PROT_EXEC"}};
  if ((nr == SYS_clone || nr == SYS_unshare) && arg == 0) return &clone_flags;
  if (nr == SYS_mmap && arg == 3) return &mmap_flags;
  if ((nr == SYS_mmap || nr == SYS_mprotect) && arg == 2) return &prot_bits;
  return nullptr;
}

}  // namespace

std::string ErrnoName(uint32_t err) {
  const char* name = err < 4096 ? strerrorname_np(static_cast<int>(err)) : nullptr;
  return name != nullptr ? std::string(name) : absl::StrCat("errno ", err);
}

std::string ActionText(uint32_t ret) {
  const uint32_t data = ret & 0xffff;
  if (!IsKnownAction(ret)) return DescribeRet(ret);
  switch (ActionOf(ret)) {
    case SeccompAction::kErrno:
      return data == 0 ? "returns 0 without effect" : ErrnoName(data);
    case SeccompAction::kTrap:
      return data == 0 ? "TRAP (SIGSYS)" : absl::StrCat("TRAP (SIGSYS, data ", data, ")");
    case SeccompAction::kTrace:
      return absl::StrCat("TRACE (to the tracer, data ", data, ")");
    default:
      return DescribeRet(ret);
  }
}

std::string ArgName(uint32_t nr, int arg) {
  auto it = Signatures().find(nr);
  if (it != Signatures().end()) {
    std::vector<std::string> names = absl::StrSplit(it->second, ',');
    if (arg >= 0 && static_cast<size_t>(arg) < names.size()) return names[static_cast<size_t>(arg)];
  }
  return absl::StrCat("a", arg);
}

bool IsFdArg(uint32_t nr, int arg) {
  const std::string name = ArgName(nr, arg);
  return name == "fd" || name == "out_fd" || name == "in_fd" || name == "fd_in" ||
         name == "fd_out" || name == "oldfd" || name == "epfd" || name == "dirfd";
}

std::string ArgValueText(uint32_t nr, int arg, uint64_t value) {
  if (const Names* names = ValueNames(nr, arg)) {
    for (const auto& [v, name] : *names) {
      if (v == value) return name;
    }
  }
  return absl::StrCat(value);
}

std::string ArgMaskText(uint32_t nr, int arg, uint64_t mask) {
  if (const Names* names = BitNames(nr, arg)) {
    std::vector<std::string> parts;
    uint64_t left = mask;
    for (const auto& [bit, name] : *names) {
      if ((mask & bit) == bit && (left & bit) != 0) {
        parts.push_back(name);
        left &= ~bit;
      }
    }
    if (left == 0 && !parts.empty()) return absl::StrJoin(parts, "|");
  }
  return absl::StrFormat("0x%x", mask);
}

std::string CallText(const SeccompInput& in, int min_arg) {
  int last = min_arg;
  for (int a = 0; a < 6; ++a) {
    if (in.arg(a) != 0) last = std::max(last, a);
  }
  std::vector<std::string> args;
  for (int a = 0; a <= last; ++a) args.push_back(ArgValueText(in.nr(), a, in.arg(a)));
  return absl::StrCat(SyscallName(in.nr()), "(", absl::StrJoin(args, ", "),
                      last < 5 ? ", …)" : ")");
}

}  // namespace fdattest
