#include "common/bpf_properties.h"

#include <fcntl.h>
#include <linux/sched.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <termios.h>


#include "absl/functional/function_ref.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/bpf_names.h"

namespace fdattest {
namespace {

bool IsAllow(uint32_t ret) { return ActionOf(ret) == SeccompAction::kAllow; }

constexpr uint32_t kAllowedCloneFlagsMask = CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS |
                                            CLONE_NEWIPC | CLONE_NEWUSER | CLONE_NEWPID |
                                            CLONE_NEWNET | CLONE_PIDFD;

// Syscalls a launcher filter may allow at all (some only under argument
// conditions checked below). Anything else allowed is a failure.
const std::set<uint32_t>& PermittedSyscalls() {
  static const std::set<uint32_t> s = {
      SYS_read, SYS_readv, SYS_pread64, SYS_preadv, SYS_preadv2, SYS_recvfrom, SYS_write,
      SYS_writev, SYS_pwrite64, SYS_pwritev, SYS_pwritev2, SYS_sendto, SYS_sendfile, SYS_splice,
      SYS_tee, SYS_copy_file_range, SYS_vmsplice, SYS_mmap, SYS_lseek, SYS_fstat, SYS_fsync,
      SYS_fdatasync, SYS_ioctl, SYS_fcntl, SYS_clone, SYS_prctl,
      SYS_prlimit64, SYS_execveat,
      // Unconditional: memory, signals, time, identity queries, exits.
      SYS_brk, SYS_mprotect, SYS_munmap, SYS_mremap, SYS_madvise, SYS_arch_prctl,
      SYS_set_tid_address, SYS_set_robust_list, SYS_rseq, SYS_getrandom, SYS_getpid, SYS_gettid,
      SYS_getppid, SYS_getuid, SYS_geteuid, SYS_getgid, SYS_getegid, SYS_getgroups,
      SYS_getresuid, SYS_getresgid, SYS_getpgrp, SYS_exit, SYS_exit_group, SYS_rt_sigaction,
      SYS_rt_sigprocmask, SYS_rt_sigreturn, SYS_rt_sigpending, SYS_rt_sigtimedwait,
      SYS_rt_sigsuspend, SYS_sigaltstack, SYS_pause, SYS_restart_syscall, SYS_clock_gettime,
      SYS_clock_getres, SYS_clock_nanosleep, SYS_nanosleep, SYS_gettimeofday, SYS_time,
      SYS_futex, SYS_sched_yield, SYS_sched_getaffinity, SYS_uname, SYS_getrlimit, SYS_getrusage,
      SYS_times, SYS_poll, SYS_ppoll, SYS_select, SYS_pselect6, SYS_wait4, SYS_getcwd};
  return s;
}

// Never allowed, whatever the arguments: fd creation and replacement, other
// processes' fds and memory, filter changes, exec by path.
const std::vector<uint32_t>& NeverAllowed() {
  static const std::vector<uint32_t> v = {
      SYS_open, SYS_openat, SYS_openat2, SYS_creat, SYS_open_by_handle_at, SYS_socket,
      SYS_socketpair, SYS_accept, SYS_accept4, SYS_pipe, SYS_pipe2, SYS_eventfd, SYS_eventfd2,
      SYS_signalfd, SYS_signalfd4, SYS_timerfd_create, SYS_epoll_create, SYS_epoll_create1,
      SYS_inotify_init, SYS_inotify_init1, SYS_fanotify_init, SYS_memfd_create,
      SYS_memfd_secret, SYS_userfaultfd, SYS_perf_event_open, SYS_bpf, SYS_io_uring_setup,
      SYS_io_uring_enter, SYS_io_uring_register, SYS_io_setup, SYS_io_submit, SYS_pidfd_open,
      SYS_pidfd_getfd, SYS_open_tree, SYS_fsopen, SYS_fspick, SYS_fsmount, SYS_dup, SYS_dup2,
      SYS_dup3, SYS_close, SYS_close_range, SYS_connect, SYS_bind, SYS_listen, SYS_sendmsg,
      SYS_recvmsg, SYS_sendmmsg, SYS_recvmmsg, SYS_ptrace, SYS_process_vm_readv,
      SYS_process_vm_writev, SYS_process_madvise, SYS_kcmp, SYS_seccomp, SYS_personality,
      SYS_execve, SYS_clone3, SYS_fork, SYS_vfork, SYS_ftruncate, SYS_fallocate, SYS_unshare,
      SYS_setns, SYS_mount, SYS_shmget, SYS_shmat, SYS_msgget, SYS_semget, SYS_mq_open,
      SYS_keyctl, SYS_kill, SYS_tkill, SYS_tgkill, SYS_readlink, SYS_readlinkat, SYS_newfstatat,
      SYS_statx, SYS_chroot, SYS_pivot_root, SYS_fchdir, SYS_chdir};
  return v;
}

// Why an allowed input breaks a property: the fd argument `fd_arg` is not a
// declared `what` fd, or (fd_arg < 0) `what` itself.
struct Why {
  int fd_arg;
  const char* what;
};

class Checker {
 public:
  explicit Checker(const DecisionTable& t) : t_(t) {}

  // Holds when no input satisfying `cs` (with arch = x86_64 and nr = `nr`)
  // reaches an ALLOW. A counterexample reads as a call: "write(2, …)
  // allowed, but fd 2 is not a declared writable fd".
  absl::Status NoAllow(absl::string_view id, absl::string_view statement, uint32_t nr,
                       std::vector<WordConstraint> cs, Why why) {
    cs.push_back(WordEq(1, kAuditArchX86_64));
    cs.push_back(WordEq(0, nr));
    ASSIGN_OR_RETURN(auto w, t_.Find(IsAllow, cs));
    // The text is made only for a counterexample.
    Record(id, statement, w, [&w, why] {
      const SeccompInput& in = w->input;
      std::string out = absl::StrCat(CallText(in, std::max(why.fd_arg, 0)), " allowed");
      if (why.fd_arg >= 0) {
        absl::StrAppend(&out, ", but fd ", in.w[ArgLoWord(why.fd_arg)], " is not a declared ",
                        why.what, *why.what != 0 ? " " : "", "fd");
      } else if (*why.what != 0) {
        absl::StrAppend(&out, ", but ", why.what);
      }
      return out;
    });
    return absl::OkStatus();
  }

  absl::Status Expect(absl::string_view id, absl::string_view statement,
                      absl::FunctionRef<bool(uint32_t)> bad_ret,
                      const std::vector<WordConstraint>& cs, absl::string_view detail) {
    ASSIGN_OR_RETURN(auto w, t_.Find(bad_ret, cs));
    Record(id, statement, w, [detail] { return std::string(detail); });
    return absl::OkStatus();
  }

  // The fd argument (low 32 bits) is outside `allowed`.
  static std::vector<WordConstraint> FdNotIn(int arg, const std::set<int>& allowed) {
    std::vector<WordConstraint> cs;
    for (int fd : allowed) cs.push_back(WordEq(ArgLoWord(arg), static_cast<uint32_t>(fd), false));
    return cs;
  }

  std::vector<PropertyResult> Take() { return std::move(results_); }

 private:
  // Several checks feed one property id (in the order first seen); the first
  // check states the property and the first failure is kept.
  void Record(absl::string_view id, absl::string_view statement,
              const std::optional<DecisionTable::Witness>& w,
              absl::FunctionRef<std::string()> detail) {
    PropertyResult* r = nullptr;
    for (PropertyResult& existing : results_) {
      if (existing.id == id) r = &existing;
    }
    if (r == nullptr) {
      r = &results_.emplace_back();
      r->id = std::string(id);
      r->statement = std::string(statement);
      r->holds = true;
    }
    if (!r->holds || !w) return;
    r->holds = false;
    r->counterexample = w->input;
    r->counterexample_ret = w->ret;
    r->detail = detail();
  }

  const DecisionTable& t_;
  std::vector<PropertyResult> results_;
};

std::set<int> Minus(const std::set<int>& a, const std::set<int>& b) {
  std::set<int> out;
  for (int x : a) {
    if (!b.contains(x)) out.insert(x);
  }
  return out;
}

}  // namespace

std::set<int> FdSets::declared() const {
  std::set<int> d = readable;
  d.insert(writable.begin(), writable.end());
  return d;
}

FdSets FdSetsOf(const Profile& profile, int exec_fd) {
  FdSets s;
  s.exec_fd = exec_fd;
  for (const FdSpec& f : profile.fds) {
    if (Readable(f.access)) s.readable.insert(f.fd);
    if (Writable(f.access)) s.writable.insert(f.fd);
    if (f.access == Access::kAppend) s.append.insert(f.fd);
  }
  return s;
}

absl::StatusOr<std::vector<PropertyResult>> CheckLauncherProperties(const DecisionTable& table,
                                                                    const FdSets& fds) {
  Checker c(table);
  const std::set<int> R = fds.readable, W = fds.writable, A = fds.append, D = fds.declared();
  const std::set<int> positional = Minus(W, A);
  const uint32_t x86 = kAuditArchX86_64;

  {
    // i386 first: it is the foreign ABI an x86_64 kernel really produces
    // (int $0x80, 32-bit arguments), so its counterexamples can be replayed.
    std::vector<WordConstraint> i386 = {WordEq(1, kAuditArchI386)};
    for (int a = 0; a < 6; ++a) i386.push_back(WordEq(ArgHiWord(a), 0));
    auto not_kill = [](uint32_t r) { return ActionOf(r) != SeccompAction::kKillProcess; };
    const char* statement =
        "every syscall from a foreign ABI (arch != x86_64) kills the process (i386 arguments as "
        "the kernel delivers them: zero-extended 32-bit values)";
    RETURN_IF_ERROR(c.Expect("foreign-arch-killed", statement, not_kill, i386,
                             "an i386 syscall is not KILL_PROCESS"));
    RETURN_IF_ERROR(c.Expect("foreign-arch-killed", statement, not_kill,
                             {WordEq(1, x86, false), WordEq(1, kAuditArchI386, false)},
                             "an input with a foreign arch is not KILL_PROCESS"));
  }
  RETURN_IF_ERROR(c.Expect(
      "x32-killed", "every x32 syscall number (0x40000000..0xfffffffe) kills the process",
      [](uint32_t r) { return ActionOf(r) != SeccompAction::kKillProcess; },
      {WordEq(1, x86), WordGe(0, kX32SyscallBit), WordEq(0, 0xffffffff, false)},
      "an x32 syscall number is not KILL_PROCESS"));
  {
    std::vector<WordConstraint> cs = {WordEq(1, x86)};
    for (uint32_t nr : PermittedSyscalls()) cs.push_back(WordEq(0, nr, false));
    RETURN_IF_ERROR(c.Expect("default-refuses",
                             "only the permitted syscall set is ever allowed; everything else "
                             "(including unknown numbers) is refused",
                             IsAllow, cs, "a syscall outside the permitted set is allowed"));
  }
  RETURN_IF_ERROR(c.Expect(
      "no-deferred-actions", "no input reaches TRAP, TRACE, USER_NOTIF, LOG or KILL_THREAD",
      [](uint32_t r) {
        SeccompAction a = ActionOf(r);
        return a == SeccompAction::kTrap || a == SeccompAction::kTrace ||
               a == SeccompAction::kUserNotif || a == SeccompAction::kLog ||
               a == SeccompAction::kKillThread;
      },
      {}, "an input reaches a deferred or thread-only action"));
  for (uint32_t nr : NeverAllowed()) {
    RETURN_IF_ERROR(c.NoAllow("never-allowed",
                              "fd-creating, fd-replacing, cross-process, filter-changing and exec "
                              "syscalls are never allowed",
                              nr, {}, {-1, "this syscall must never be allowed"}));
  }
  // Read family: only readable declared fds.
  for (uint32_t nr : {SYS_read, SYS_readv, SYS_pread64, SYS_preadv, SYS_preadv2, SYS_recvfrom}) {
    RETURN_IF_ERROR(c.NoAllow("read-family-fds",
                              "read-family syscalls are allowed only when lo32(fd) is a readable "
                              "declared fd",
                              nr, Checker::FdNotIn(0, R), {0, "readable"}));
  }
  // Write family.
  for (uint32_t nr : {SYS_write, SYS_writev}) {
    RETURN_IF_ERROR(c.NoAllow("write-family-fds",
                              "write-family syscalls are allowed only when lo32(fd) is a writable "
                              "declared fd (positional ones: not append-only)",
                              nr, Checker::FdNotIn(0, W), {0, "writable"}));
  }
  for (uint32_t nr : {SYS_pwrite64, SYS_pwritev, SYS_pwritev2}) {
    RETURN_IF_ERROR(c.NoAllow("write-family-fds", "", nr, Checker::FdNotIn(0, positional),
                              {0, "positional writable (not append-only)"}));
  }
  {
    auto cs = Checker::FdNotIn(0, W);
    RETURN_IF_ERROR(c.NoAllow("write-family-fds", "", SYS_sendto, cs, {0, "writable"}));
    // sendto with a destination address (either half non-zero).
    RETURN_IF_ERROR(c.NoAllow("write-family-fds", "", SYS_sendto, {WordEq(ArgLoWord(4), 0, false)},
                              {-1, "sendto must not name a destination"}));
    RETURN_IF_ERROR(c.NoAllow("write-family-fds", "", SYS_sendto, {WordEq(ArgHiWord(4), 0, false)},
                              {-1, "sendto must not name a destination"}));
  }
  // Append-only: no RWF flags on pwritev2, no repositioning, no F_SETFL.
  RETURN_IF_ERROR(c.NoAllow(
      "append-only-kept", "append-only fds cannot be truncated, repositioned or un-appended",
      SYS_pwritev2, {WordEq(ArgLoWord(5), 0, false)},
      {-1, "pwritev2 flags must be 0 (RWF_NOAPPEND would defeat append-only)"}));
  for (int fd : A) {
    for (uint32_t nr : {SYS_lseek, SYS_ftruncate, SYS_fallocate, SYS_pwrite64, SYS_pwritev,
                        SYS_pwritev2}) {
      RETURN_IF_ERROR(c.NoAllow("append-only-kept", "", nr,
                                {WordEq(ArgLoWord(0), static_cast<uint32_t>(fd))},
                                {-1, "the fd is append-only"}));
    }
  }
  // Zero-copy movers: every fd argument.
  struct Mover {
    uint32_t nr;
    int in, out;
  };
  for (Mover m : {Mover{SYS_sendfile, 1, 0}, Mover{SYS_splice, 0, 2}, Mover{SYS_tee, 0, 1},
                  Mover{SYS_copy_file_range, 0, 2}}) {
    RETURN_IF_ERROR(c.NoAllow("zero-copy-fds",
                              "zero-copy movers are allowed only from readable to writable "
                              "declared fds (every fd argument checked)",
                              m.nr, Checker::FdNotIn(m.in, R), {m.in, "readable"}));
    RETURN_IF_ERROR(
        c.NoAllow("zero-copy-fds", "", m.nr, Checker::FdNotIn(m.out, W), {m.out, "writable"}));
  }
  RETURN_IF_ERROR(c.NoAllow("zero-copy-fds", "", SYS_vmsplice, Checker::FdNotIn(0, D), {0, ""}));
  {
    auto cs = Checker::FdNotIn(4, R);
    cs.push_back(WordBitsSet(ArgLoWord(3), MAP_ANONYMOUS, false));
    RETURN_IF_ERROR(c.NoAllow("mmap-fds",
                              "mmap is allowed only for MAP_ANONYMOUS or a readable declared fd",
                              SYS_mmap, cs, {4, "readable"}));
  }
  // Descriptor metadata and control: declared fds, command allowlists.
  for (uint32_t nr : {SYS_fstat, SYS_lseek, SYS_fsync, SYS_fdatasync, SYS_ioctl, SYS_fcntl}) {
    RETURN_IF_ERROR(c.NoAllow("fd-control",
                              "fd metadata/control syscalls only on declared fds; fcntl only "
                              "F_GETFD/F_GETFL; ioctl only TCGETS/TIOCGWINSZ/TIOCGPGRP/FIONREAD",
                              nr, Checker::FdNotIn(0, D), {0, ""}));
  }
  {
    std::vector<WordConstraint> cs;
    for (uint32_t cmd : {F_GETFD, F_GETFL}) cs.push_back(WordEq(ArgLoWord(1), cmd, false));
    RETURN_IF_ERROR(
        c.NoAllow("fd-control", "", SYS_fcntl, cs, {-1, "fcntl may only use F_GETFD or F_GETFL"}));
    cs.clear();
    for (uint32_t cmd : {TCGETS, TIOCGWINSZ, TIOCGPGRP, FIONREAD}) {
      cs.push_back(WordEq(ArgLoWord(1), cmd, false));
    }
    RETURN_IF_ERROR(
        c.NoAllow("fd-control", "", SYS_ioctl, cs,
                  {-1, "ioctl may only use TCGETS, TIOCGWINSZ, TIOCGPGRP or FIONREAD"}));
  }
  // Processes.
  RETURN_IF_ERROR(
      c.NoAllow("process-confined",
                "clone never creates namespaces or pidfds; prctl only reads the task name; "
                "prlimit64 only reads its own limits; execveat only the measured fd",
                SYS_clone, {WordBitsSet(ArgLoWord(0), kAllowedCloneFlagsMask)},
                {-1, "clone may not create namespaces or pidfds"}));
  {
    std::vector<WordConstraint> cs;
    // Not PR_SET_NAME: the name is world-readable in /proc (docs/filter.md).
    cs.push_back(WordEq(ArgLoWord(0), PR_GET_NAME, false));
    RETURN_IF_ERROR(
        c.NoAllow("process-confined", "", SYS_prctl, cs, {-1, "prctl may only use PR_GET_NAME"}));
  }
  RETURN_IF_ERROR(c.NoAllow("process-confined", "", SYS_prlimit64, {WordEq(ArgLoWord(2), 0, false)},
                            {-1, "prlimit64 may not set limits"}));
  RETURN_IF_ERROR(c.NoAllow("process-confined", "", SYS_prlimit64, {WordEq(ArgHiWord(2), 0, false)},
                            {-1, "prlimit64 may not set limits"}));
  RETURN_IF_ERROR(c.NoAllow("process-confined", "", SYS_prlimit64, {WordEq(ArgLoWord(0), 0, false)},
                            {-1, "prlimit64 may only name its own process"}));
  if (fds.exec_fd < 0) {
    RETURN_IF_ERROR(
        c.NoAllow("process-confined", "", SYS_execveat, {}, {-1, "there is no exec fd"}));
  } else {
    RETURN_IF_ERROR(c.NoAllow("process-confined", "", SYS_execveat,
                              {WordEq(ArgLoWord(0), static_cast<uint32_t>(fds.exec_fd), false)},
                              {0, "exec"}));
    RETURN_IF_ERROR(c.NoAllow("process-confined", "", SYS_execveat,
                              {WordEq(ArgLoWord(4), AT_EMPTY_PATH, false)},
                              {-1, "execveat flags must be exactly AT_EMPTY_PATH"}));
  }
  // Completeness: every declared fd is usable for its declared access.
  for (int fd : R) {
    RETURN_IF_ERROR(c.Expect(
        "declared-fds-usable",
        "read on every readable and write on every writable declared fd "
        "is allowed",
        [](uint32_t ret) { return !IsAllow(ret); },
        {WordEq(0, SYS_read), WordEq(1, x86), WordEq(ArgLoWord(0), static_cast<uint32_t>(fd)),
         WordEq(ArgHiWord(0), 0)},
        absl::StrCat("read(", fd, ", …) refused, but fd ", fd, " is a declared readable fd")));
  }
  for (int fd : W) {
    RETURN_IF_ERROR(c.Expect(
        "declared-fds-usable", "", [](uint32_t ret) { return !IsAllow(ret); },
        {WordEq(0, SYS_write), WordEq(1, x86), WordEq(ArgLoWord(0), static_cast<uint32_t>(fd)),
         WordEq(ArgHiWord(0), 0)},
        absl::StrCat("write(", fd, ", …) refused, but fd ", fd, " is a declared writable fd")));
  }
  return c.Take();
}

}  // namespace fdattest
