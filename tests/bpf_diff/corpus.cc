#include "tests/bpf_diff/corpus.h"

#include <errno.h>
#include <linux/audit.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <functional>
#include <memory>
#include <random>

#include "absl/strings/str_cat.h"
#include "common/bpf.h"
#include "common/bpf_symbolic.h"
#include "common/unique_fd.h"
#include "launcher/filter.h"

namespace fdattest::bpf_diff {

// --- Asm ---------------------------------------------------------------------

Asm& Asm::Ld(int word) {
  insns_.push_back({BPF_STMT(BPF_LD | BPF_W | BPF_ABS, static_cast<uint32_t>(4 * word)), "", ""});
  return *this;
}

Asm& Asm::And(uint32_t k) {
  insns_.push_back({BPF_STMT(BPF_ALU | BPF_AND | BPF_K, k), "", ""});
  return *this;
}

Asm& Asm::J(uint16_t op, uint32_t k, const std::string& jt, const std::string& jf) {
  insns_.push_back({BPF_JUMP(static_cast<uint16_t>(BPF_JMP | op | BPF_K), k, 0, 0), jt, jf});
  return *this;
}

Asm& Asm::Ja(const std::string& target) {
  insns_.push_back({BPF_STMT(BPF_JMP | BPF_JA, 0), target, ""});
  return *this;
}

Asm& Asm::Ret(uint32_t k) {
  insns_.push_back({BPF_STMT(BPF_RET | BPF_K, k), "", ""});
  return *this;
}

Asm& Asm::Label(const std::string& name) {
  labels_[name] = insns_.size();
  return *this;
}

absl::StatusOr<std::string> Asm::Bytes() const {
  std::string out;
  for (size_t pc = 0; pc < insns_.size(); ++pc) {
    sock_filter insn = insns_[pc].insn;
    auto offset = [&](const std::string& label) -> absl::StatusOr<uint32_t> {
      if (label.empty()) return 0u;
      auto it = labels_.find(label);
      if (it == labels_.end()) return absl::InvalidArgumentError(absl::StrCat("no label ", label));
      if (it->second <= pc) {
        return absl::InvalidArgumentError(absl::StrCat("backward jump to ", label, " at ", pc));
      }
      return static_cast<uint32_t>(it->second - pc - 1);
    };
    if (insn.code == (BPF_JMP | BPF_JA)) {
      ASSIGN_OR_RETURN(insn.k, offset(insns_[pc].jt));
    } else if (BPF_CLASS(insn.code) == BPF_JMP) {
      ASSIGN_OR_RETURN(uint32_t jt, offset(insns_[pc].jt));
      ASSIGN_OR_RETURN(uint32_t jf, offset(insns_[pc].jf));
      if (jt > 255 || jf > 255) {
        return absl::InvalidArgumentError(absl::StrCat("conditional jump too long at ", pc));
      }
      insn.jt = static_cast<uint8_t>(jt);
      insn.jf = static_cast<uint8_t>(jf);
    }
    out.append(reinterpret_cast<const char*>(&insn), sizeof(insn));
  }
  return out;
}

namespace {

constexpr uint32_t kAllow = SECCOMP_RET_ALLOW;
constexpr uint32_t kKillProcess = SECCOMP_RET_KILL_PROCESS;
constexpr uint32_t kKillThread = SECCOMP_RET_KILL_THREAD;
constexpr uint32_t kLog = SECCOMP_RET_LOG;
constexpr uint32_t kUserNotif = SECCOMP_RET_USER_NOTIF;
constexpr uint32_t Errno(uint32_t e) { return SECCOMP_RET_ERRNO | e; }
constexpr uint32_t Trap(uint32_t d) { return SECCOMP_RET_TRAP | d; }
constexpr uint32_t Trace(uint32_t d) { return SECCOMP_RET_TRACE | d; }

// seccomp_data word indexes.
constexpr int kNr = 0, kArch = 1;
constexpr int Lo(int arg) { return 4 + 2 * arg; }
constexpr int Hi(int arg) { return 5 + 2 * arg; }

// --- launcher filters ----------------------------------------------------------

struct Built {
  std::string bytes;
  std::vector<int> fds;
};

absl::StatusOr<Built> Launcher(const FilterSpec& spec) {
  ASSIGN_OR_RETURN(std::string bytes, CompileFilter(spec));
  Built b{std::move(bytes), {}};
  for (const FilterFd& f : spec.fds) b.fds.push_back(f.fd);
  if (spec.exec_fd >= 0) b.fds.push_back(spec.exec_fd);
  return b;
}

absl::StatusOr<Built> LauncherOneReader() { return Launcher({.fds = {{0, Access::kRead}}}); }

// The phi-etl shape: input (read), output (write), audit log (append),
// a socket (write) and /dev/null (read-write).
absl::StatusOr<Built> LauncherPhiEtl() {
  return Launcher({.fds = {{0, Access::kRead},
                           {1, Access::kWrite},
                           {2, Access::kAppend},
                           {3, Access::kWrite},
                           {4, Access::kReadWrite}},
                   .exec_fd = 5});
}

absl::StatusOr<Built> LauncherManyFds() {
  FilterSpec spec{.exec_fd = 21};
  const Access cycle[] = {Access::kRead,   Access::kWrite, Access::kReadWrite,
                          Access::kAppend, Access::kRead,  Access::kWrite};
  for (int fd = 0; fd <= 20; ++fd) spec.fds.push_back({fd, cycle[fd % std::size(cycle)]});
  return Launcher(spec);
}

absl::StatusOr<Built> LauncherKill() {
  return Launcher({.fds = {{0, Access::kRead}, {1, Access::kWrite}, {2, Access::kAppend}},
                   .on_violation = OnViolation::kKill,
                   .exec_fd = 3});
}

absl::StatusOr<Built> LauncherHighFdsKill() {
  return Launcher({.fds = {{100, Access::kReadWrite}, {254, Access::kRead}, {255, Access::kWrite}},
                   .on_violation = OnViolation::kKill,
                   .exec_fd = 200});
}

// --- libseccomp filters --------------------------------------------------------

struct ScmpDeleter {
  void operator()(void* ctx) const { seccomp_release(ctx); }
};
using Scmp = std::unique_ptr<void, ScmpDeleter>;

absl::StatusOr<std::string> Export(void* ctx) {
  UniqueFd mem(static_cast<int>(syscall(SYS_memfd_create, "bpf-diff", MFD_CLOEXEC)));
  if (!mem) return ErrnoStatus("memfd_create", errno);
  int rc = seccomp_export_bpf(ctx, mem.get());
  if (rc != 0) return absl::InternalError(absl::StrCat("seccomp_export_bpf: ", strerror(-rc)));
  off_t size = lseek(mem.get(), 0, SEEK_END);
  if (size <= 0) return absl::InternalError("empty export");
  std::string bytes(static_cast<size_t>(size), '\0');
  if (pread(mem.get(), bytes.data(), bytes.size(), 0) != size) return ErrnoStatus("pread", errno);
  return bytes;
}

class Rules {
 public:
  Rules(void* ctx, uint32_t default_action) : ctx_(ctx), default_(default_action) {}
  // seccomp_rule_add (not _exact): libseccomp translates the rule to every
  // architecture of the filter, as container runtimes use it.
  void Add(uint32_t action, const char* name, std::vector<scmp_arg_cmp> cmps = {}) {
    if (!status_.ok() || action == default_) return;  // libseccomp refuses those
    int nr = seccomp_syscall_resolve_name(name);
    if (nr == __NR_SCMP_ERROR) return;  // unknown to this libseccomp
    int rc = seccomp_rule_add_array(ctx_, action, nr, static_cast<unsigned>(cmps.size()),
                                    cmps.empty() ? nullptr : cmps.data());
    // On a 32-bit architecture libseccomp truncates 64-bit operands, so a
    // rule can collide there with an earlier one (EEXIST): it is left out.
    if (rc != 0 && rc != -EEXIST) {
      status_ = absl::InternalError(absl::StrCat("rule for ", name, ": ", strerror(-rc)));
    }
  }
  const absl::Status& status() const { return status_; }

 private:
  void* ctx_;
  uint32_t default_;
  absl::Status status_;
};

absl::StatusOr<Scmp> NewCtx(uint32_t default_action, uint32_t badarch,
                            std::initializer_list<uint32_t> extra_arches, int optimize) {
  Scmp ctx(seccomp_init(default_action));
  if (!ctx) return absl::InternalError("seccomp_init");
  for (uint32_t arch : extra_arches) {
    if (seccomp_arch_add(ctx.get(), arch) != 0) return absl::InternalError("seccomp_arch_add");
  }
  if (seccomp_attr_set(ctx.get(), SCMP_FLTATR_ACT_BADARCH, badarch) != 0) {
    return absl::InternalError("SCMP_FLTATR_ACT_BADARCH");
  }
  int rc = seccomp_attr_set(ctx.get(), SCMP_FLTATR_CTL_OPTIMIZE, static_cast<uint32_t>(optimize));
  if (rc != 0) {
    return absl::InternalError(
        absl::StrCat("SCMP_FLTATR_CTL_OPTIMIZE=", optimize, ": ", strerror(-rc)));
  }
  return ctx;
}

// Argument-conditioned rules with every comparison operator on 64-bit values,
// so libseccomp emits hi/lo word compares of every shape it knows.
void ArgRules(Rules& r) {
  for (const char* name :
       {"getpid",          "gettid",          "exit_group",   "exit",           "brk",
        "rt_sigreturn",    "futex",           "nanosleep",    "clock_gettime",  "madvise",
        "munmap",          "mprotect",        "rt_sigaction", "rt_sigprocmask", "sched_yield",
        "getuid",          "geteuid",         "getgid",       "getegid",        "arch_prctl",
        "set_tid_address", "set_robust_list", "rseq",         "sigaltstack"}) {
    r.Add(kAllow, name);
  }
  for (const char* name : {"uname", "getcwd", "sysinfo"}) r.Add(kLog, name);
  for (const char* name : {"ptrace", "process_vm_readv", "kcmp"}) r.Add(kKillThread, name);
  for (const char* name : {"reboot", "kexec_load"}) r.Add(SCMP_ACT_TRAP, name);
  for (const char* name : {"mount", "umount2", "pivot_root"}) r.Add(Errno(1), name);
  r.Add(Errno(38), "clone3");
  r.Add(kKillProcess, "init_module");

  r.Add(kAllow, "read", {SCMP_A0(SCMP_CMP_EQ, 0)});
  r.Add(kAllow, "read", {SCMP_A0(SCMP_CMP_EQ, 3)});
  r.Add(Errno(77), "read", {SCMP_A0(SCMP_CMP_EQ, 0x100000003ULL)});
  r.Add(kAllow, "write", {SCMP_A0(SCMP_CMP_LE, 2)});
  r.Add(Errno(22), "write", {SCMP_A0(SCMP_CMP_GT, 0xffffffffULL)});
  r.Add(kAllow, "pread64", {SCMP_A2(SCMP_CMP_LT, 4096)});
  r.Add(SCMP_ACT_TRAP, "pread64", {SCMP_A3(SCMP_CMP_GE, 0x100000000ULL)});
  r.Add(kAllow, "pwrite64", {SCMP_A1(SCMP_CMP_NE, 0), SCMP_A2(SCMP_CMP_LE, 0x7fffffffULL)});
  r.Add(kAllow, "mmap", {SCMP_A3(SCMP_CMP_MASKED_EQ, MAP_ANONYMOUS, MAP_ANONYMOUS)});
  r.Add(kLog, "mmap", {SCMP_A2(SCMP_CMP_MASKED_EQ, 0xffffffff00000004ULL, 0x100000004ULL)});
  r.Add(Errno(9), "mmap", {SCMP_A4(SCMP_CMP_GE, 0xfffffffffffffff0ULL)});
  r.Add(Errno(9), "lseek", {SCMP_A0(SCMP_CMP_NE, 7)});
  r.Add(kAllow, "lseek", {SCMP_A0(SCMP_CMP_EQ, 7), SCMP_A2(SCMP_CMP_LE, 2)});
  r.Add(kAllow, "ioctl", {SCMP_A1(SCMP_CMP_EQ, 0x5401), SCMP_A0(SCMP_CMP_LE, 2)});
  r.Add(Errno(25), "ioctl", {SCMP_A1(SCMP_CMP_MASKED_EQ, 0xff00, 0x5400)});
  r.Add(kKillThread, "fcntl", {SCMP_A1(SCMP_CMP_GE, 0xffffffff80000000ULL)});
  r.Add(kAllow, "fcntl", {SCMP_A1(SCMP_CMP_LT, 4)});
  r.Add(kAllow, "socket", {SCMP_A0(SCMP_CMP_EQ, 1), SCMP_A1(SCMP_CMP_MASKED_EQ, 0xf, 1)});
  r.Add(Errno(97), "socket", {SCMP_A0(SCMP_CMP_EQ, 2)});
  r.Add(kAllow, "kill", {SCMP_A1(SCMP_CMP_EQ, 0)});
  r.Add(Errno(3), "kill", {SCMP_A0(SCMP_CMP_GT, 0xffffffffULL)});
  r.Add(Errno(4), "prctl", {SCMP_A0(SCMP_CMP_GE, 0x10), SCMP_A1(SCMP_CMP_LE, 0x20)});
  r.Add(kAllow, "prctl", {SCMP_A0(SCMP_CMP_EQ, 15)});
  r.Add(kAllow, "clone", {SCMP_A0(SCMP_CMP_MASKED_EQ, 0x7E020000ULL, 0)});
  r.Add(Errno(2), "openat", {SCMP_A0(SCMP_CMP_EQ, 0xffffffffffffff9cULL)});
  r.Add(kLog, "openat", {SCMP_A2(SCMP_CMP_MASKED_EQ, 3, 0)});
  r.Add(kAllow, "close", {SCMP_A0(SCMP_CMP_GE, 3)});
  r.Add(Errno(5), "close_range", {SCMP_A0(SCMP_CMP_LE, 1023), SCMP_A1(SCMP_CMP_GT, 2)});
  r.Add(SCMP_ACT_TRAP, "dup2", {SCMP_A1(SCMP_CMP_LT, 3)});
  r.Add(Errno(11), "getrandom", {SCMP_A2(SCMP_CMP_MASKED_EQ, 1, 1)});
  r.Add(kAllow, "personality", {SCMP_A0(SCMP_CMP_EQ, 0)});
  r.Add(kAllow, "personality", {SCMP_A0(SCMP_CMP_EQ, 0xffffffffULL)});
  r.Add(Trace(9), "sendto", {SCMP_A5(SCMP_CMP_NE, 0), SCMP_A4(SCMP_CMP_NE, 0)});
  r.Add(kAllow, "sendto", {SCMP_A4(SCMP_CMP_EQ, 0)});
}

absl::StatusOr<Built> LibseccompArgs(int optimize, uint32_t default_action,
                                     std::initializer_list<uint32_t> arches) {
  ASSIGN_OR_RETURN(Scmp ctx, NewCtx(default_action, kKillProcess, arches, optimize));
  if (optimize == 1) {
    seccomp_syscall_priority(ctx.get(), SCMP_SYS(write), 200);
    seccomp_syscall_priority(ctx.get(), SCMP_SYS(read), 199);
  }
  Rules r(ctx.get(), default_action);
  ArgRules(r);
  RETURN_IF_ERROR(r.status());
  ASSIGN_OR_RETURN(std::string bytes, Export(ctx.get()));
  return Built{std::move(bytes), {0, 1, 2, 3, 7}};
}

// Docker's default profile, in substance: ~300 syscalls allowed on every
// architecture of the host (x86_64, x86, x32), a few conditioned on arguments,
// everything else ERRNO.
// clang-format off
constexpr const char* kDockerAllow[] = {
    "accept", "accept4", "access", "adjtimex", "alarm", "bind", "brk", "capget", "capset", "chdir",
    "chmod", "chown", "chown32", "clock_adjtime", "clock_adjtime64", "clock_getres",
    "clock_getres_time64", "clock_gettime", "clock_gettime64", "clock_nanosleep",
    "clock_nanosleep_time64", "close", "close_range", "connect", "copy_file_range", "creat", "dup",
    "dup2", "dup3", "epoll_create", "epoll_create1", "epoll_ctl", "epoll_ctl_old", "epoll_pwait",
    "epoll_pwait2", "epoll_wait", "epoll_wait_old", "eventfd", "eventfd2", "execve", "execveat",
    "exit", "exit_group", "faccessat", "faccessat2", "fadvise64", "fadvise64_64", "fallocate",
    "fanotify_mark", "fchdir", "fchmod", "fchmodat", "fchown", "fchown32", "fchownat", "fcntl",
    "fcntl64", "fdatasync", "fgetxattr", "flistxattr", "flock", "fork", "fremovexattr", "fsetxattr",
    "fstat", "fstat64", "fstatat64", "fstatfs", "fstatfs64", "fsync", "ftruncate", "ftruncate64",
    "futex", "futex_time64", "futex_waitv", "futimesat", "getcpu", "getcwd", "getdents",
    "getdents64", "getegid", "getegid32", "geteuid", "geteuid32", "getgid", "getgid32", "getgroups",
    "getgroups32", "getitimer", "getpeername", "getpgid", "getpgrp", "getpid", "getppid",
    "getpriority", "getrandom", "getresgid", "getresgid32", "getresuid", "getresuid32", "getrlimit",
    "get_robust_list", "getrusage", "getsid", "getsockname", "getsockopt", "get_thread_area",
    "gettid", "gettimeofday", "getuid", "getuid32", "getxattr", "inotify_add_watch", "inotify_init",
    "inotify_init1", "inotify_rm_watch", "io_cancel", "ioctl", "io_destroy", "io_getevents",
    "io_pgetevents", "io_pgetevents_time64", "ioprio_get", "ioprio_set", "io_setup", "io_submit",
    "io_uring_enter", "io_uring_register", "io_uring_setup", "ipc", "kill", "landlock_add_rule",
    "landlock_create_ruleset", "landlock_restrict_self", "lchown", "lchown32", "lgetxattr", "link",
    "linkat", "listen", "listxattr", "llistxattr", "_llseek", "lremovexattr", "lseek", "lsetxattr",
    "lstat", "lstat64", "madvise", "membarrier", "memfd_create", "memfd_secret", "mincore", "mkdir",
    "mkdirat", "mknod", "mknodat", "mlock", "mlock2", "mlockall", "mmap", "mmap2", "mprotect",
    "mq_getsetattr", "mq_notify", "mq_open", "mq_timedreceive", "mq_timedreceive_time64",
    "mq_timedsend", "mq_timedsend_time64", "mq_unlink", "mremap", "msgctl", "msgget", "msgrcv",
    "msgsnd", "msync", "munlock", "munlockall", "munmap", "name_to_handle_at", "nanosleep",
    "newfstatat", "_newselect", "open", "openat", "openat2", "pause", "pidfd_open",
    "pidfd_send_signal", "pipe", "pipe2", "pkey_alloc", "pkey_free", "pkey_mprotect", "poll",
    "ppoll", "ppoll_time64", "prctl", "pread64", "preadv", "preadv2", "prlimit64",
    "process_mrelease", "pselect6", "pselect6_time64", "pwrite64", "pwritev", "pwritev2", "read",
    "readahead", "readlink", "readlinkat", "readv", "recv", "recvfrom", "recvmmsg",
    "recvmmsg_time64", "recvmsg", "remap_file_pages", "removexattr", "rename", "renameat",
    "renameat2", "restart_syscall", "rmdir", "rseq", "rt_sigaction", "rt_sigpending",
    "rt_sigprocmask", "rt_sigqueueinfo", "rt_sigreturn", "rt_sigsuspend", "rt_sigtimedwait",
    "rt_sigtimedwait_time64", "rt_tgsigqueueinfo", "sched_getaffinity", "sched_getattr",
    "sched_getparam", "sched_get_priority_max", "sched_get_priority_min", "sched_getscheduler",
    "sched_rr_get_interval", "sched_rr_get_interval_time64", "sched_setaffinity", "sched_setattr",
    "sched_setparam", "sched_setscheduler", "sched_yield", "seccomp", "select", "semctl", "semget",
    "semop", "semtimedop", "semtimedop_time64", "send", "sendfile", "sendfile64", "sendmmsg",
    "sendmsg", "sendto", "setfsgid", "setfsgid32", "setfsuid", "setfsuid32", "setgid", "setgid32",
    "setgroups", "setgroups32", "setitimer", "setpgid", "setpriority", "setregid", "setregid32",
    "setresgid", "setresgid32", "setresuid", "setresuid32", "setreuid", "setreuid32", "setrlimit",
    "set_robust_list", "setsid", "setsockopt", "set_thread_area", "set_tid_address", "setuid",
    "setuid32", "setxattr", "shmat", "shmctl", "shmdt", "shmget", "shutdown", "sigaltstack",
    "signalfd", "signalfd4", "sigprocmask", "sigreturn", "socketcall", "socketpair", "splice",
    "stat", "stat64", "statfs", "statfs64", "statx", "symlink", "symlinkat", "sync",
    "sync_file_range", "syncfs", "sysinfo", "tee", "tgkill", "time", "timer_create", "timer_delete",
    "timer_getoverrun", "timer_gettime", "timer_gettime64", "timer_settime", "timer_settime64",
    "timerfd_create", "timerfd_gettime", "timerfd_gettime64", "timerfd_settime",
    "timerfd_settime64", "times", "tkill", "truncate", "truncate64", "ugetrlimit", "umask", "uname",
    "unlink", "unlinkat", "utime", "utimensat", "utimensat_time64", "utimes", "vfork", "vmsplice",
    "wait4", "waitid", "waitpid", "write", "writev", "arch_prctl", "modify_ldt",
};
// clang-format on

absl::StatusOr<Built> DockerLike(int optimize) {
  const uint32_t deflt = Errno(EPERM);
  ASSIGN_OR_RETURN(Scmp ctx, NewCtx(deflt, kKillThread, {SCMP_ARCH_X86, SCMP_ARCH_X32}, optimize));
  Rules r(ctx.get(), deflt);
  for (const char* name : kDockerAllow) r.Add(kAllow, name);
  for (uint64_t persona : {0x0ULL, 0x8ULL, 0x20000ULL, 0x20008ULL, 0xffffffffULL}) {
    r.Add(kAllow, "personality", {SCMP_A0(SCMP_CMP_EQ, persona)});
  }
  // clone without namespace flags; clone3 answers ENOSYS so libc falls back.
  r.Add(kAllow, "clone", {SCMP_A0(SCMP_CMP_MASKED_EQ, 0x7E020000ULL, 0)});
  r.Add(Errno(ENOSYS), "clone3");
  r.Add(kAllow, "socket", {SCMP_A0(SCMP_CMP_NE, 40)});  // AF_VSOCK
  RETURN_IF_ERROR(r.status());
  ASSIGN_OR_RETURN(std::string bytes, Export(ctx.get()));
  return Built{std::move(bytes), {0, 1, 2, 40}};
}

// --- hand-assembled programs ---------------------------------------------------

// Both architectures, jset on nr (x32 bit, parity), ja, masked fd compares,
// hi-word checks, jt == jf.
absl::StatusOr<Built> HandJsetJa() {
  Asm a;
  a.Ld(kArch).Jeq(kAuditArchX86_64, "x64", "").Jeq(kAuditArchI386, "i386", "").Ret(kKillProcess);
  a.Label("x64").Ld(kNr).Jset(kX32SyscallBit, "x32", "");
  a.Jeq(0, "read", "").Jeq(1, "write", "").Jeq(9, "mmap", "").Jeq(16, "ioctl", "");
  a.Jge(451, "nosys", "").Jset(1, "odd", "even");
  a.Label("x32").Ret(kKillThread);
  a.Label("nosys").Ret(Errno(38));
  a.Label("odd").Ret(Errno(1));
  a.Label("even").Ret(kLog);
  a.Label("read").Ld(Hi(0)).Jeq(0, "", "hijunk").Ld(Lo(0)).Jeq(0, "allow", "");
  a.Jeq(3, "allow", "ebadf");
  a.Label("write").Ld(Lo(0)).And(0xfffffffe).Jeq(0, "allow", "").Jeq(2, "", "ebadf");
  a.Ld(Hi(0)).Jset(0xffffffff, "hijunk", "allow");
  a.Label("mmap").Ld(Lo(3)).Jset(0x20, "anon", "").Ld(Lo(4)).Jeq(3, "", "ebadf");
  a.Ld(Hi(4)).Jeq(0, "allow", "hijunk");
  a.Label("anon").Ld(Lo(3)).And(0x3).Jeq(0x3, "trap", "").Ja("allow");
  a.Label("ioctl").Ld(Lo(1)).Jeq(0x5401, "fdcheck", "").Jeq(0x5413, "fdcheck", "");
  a.Jgt(0x5400, "same", "same");
  a.Label("same").Ret(Errno(25));
  a.Label("fdcheck").Ld(Lo(0)).Jgt(2, "ebadf", "allow");
  a.Label("hijunk").Ret(Trap(7));
  a.Label("trap").Ret(Trap(0xffff));
  a.Label("allow").Ret(kAllow);
  a.Label("ebadf").Ret(Errno(9));
  a.Label("i386").Ld(kNr).Jgt(450, "nosys32", "").Jge(300, "eperm32", "").Jset(3, "s", "s");
  a.Label("s").Jeq(4, "w32", "").Jeq(63, "dup2", "").Ret(Errno(13));
  a.Label("w32").Ld(Lo(0)).Jeq(1, "allow32", "").Jeq(2, "allow32", "ebadf32");
  a.Label("dup2").Ld(Lo(1)).Jge(3, "", "kill32").Jgt(255, "kill32", "allow32");
  a.Label("kill32").Ret(kKillProcess);
  a.Label("nosys32").Ret(Errno(38));
  a.Label("eperm32").Ret(Errno(1));
  a.Label("allow32").Ret(kAllow);
  a.Label("ebadf32").Ret(Errno(9));
  ASSIGN_OR_RETURN(std::string bytes, a.Bytes());
  return Built{std::move(bytes), {0, 1, 2, 3}};
}

// Binary-search jgt/jge chains over nr, masked range compares, libseccomp's
// 64-bit "greater than" shape written by hand, an infeasible branch.
absl::StatusOr<Built> HandRanges() {
  Asm a;
  a.Ld(kArch).Jeq(kAuditArchX86_64, "", "badarch").Ld(kNr).Jge(kX32SyscallBit, "badnr", "");
  a.Jgt(200, "hi200", "").Jge(100, "r100", "").Jgt(49, "r50", "").Jge(10, "r10", "");
  a.Ret(kAllow);
  a.Label("r10").Ld(Lo(0)).Jgt(0x7fffffff, "neg", "").Jge(0x1000, "big", "small");
  a.Label("neg").Ret(Errno(33));
  a.Label("big").Ret(Errno(34));
  a.Label("small").Ret(Errno(35));
  // a1 > 0x1_00000010 as (hi > 1) || (hi == 1 && lo > 0x10).
  a.Label("r50").Ld(Hi(1)).Jgt(1, "gt", "").Jeq(1, "", "le").Ld(Lo(1)).Jgt(0x10, "gt", "le");
  a.Label("gt").Ret(kLog);
  a.Label("le").Ret(Errno(36));
  a.Label("r100").Ld(kNr).And(0xf).Jge(8, "upper", "").Jgt(3, "mid", "low");
  a.Label("upper").Ret(Trap(1));
  a.Label("mid").Ret(Trap(2));
  a.Label("low").Ret(Trap(3));
  a.Label("hi200").Jgt(400, "hi400", "").Jge(300, "hi300", "").Ret(kUserNotif);
  a.Label("hi300").Ld(Hi(5)).Jge(0x80000000, "", "pos").Ret(Trace(5));
  a.Label("pos").Ld(Lo(5)).Jge(0, "all", "all");
  a.Label("all").Ret(Trace(6));
  a.Label("hi400").Jgt(0xfffffffe, "never", "").Ld(Lo(2)).And(0xff00).Jgt(0x7f00, "", "lowbyte");
  a.Ld(Lo(2)).And(0xffff).Jge(0xff00, "ff", "").Ret(Errno(40));
  a.Label("ff").Ret(Errno(41));
  a.Label("lowbyte").Ret(Errno(42));
  a.Label("never").Ret(kKillThread);
  a.Label("badarch").Ret(kKillProcess);
  a.Label("badnr").Ret(Errno(38));
  ASSIGN_OR_RETURN(std::string bytes, a.Bytes());
  return Built{std::move(bytes), {0, 1, 2}};
}

// Masked arch test, several loads of the same word, AND-masked compares on
// flags, sign-extended constants on the hi word.
absl::StatusOr<Built> HandMaskedMultiLoad() {
  Asm a;
  a.Ld(kArch).And(0x80000000).Jeq(0x80000000, "", "is32");
  a.Ld(kNr).Jeq(2, "open", "").Jeq(257, "openat", "").Jeq(72, "fcntl", "").Jeq(3, "close", "");
  a.Ld(kNr).And(0xfffffff0).Jeq(0x40, "sixties", "").Ret(Errno(1));
  a.Label("sixties").Ld(kNr).Jset(0x8, "hi8", "").Ret(Errno(50));
  a.Label("hi8").Ret(Errno(51));
  a.Label("open").Ld(Lo(1)).And(3).Jeq(0, "ro", "").Ret(Errno(30));
  a.Label("ro").Ld(Lo(1)).Jset(0x40, "creat", "").Ld(Lo(1)).And(0x200).Jeq(0x200, "trunc", "allow");
  a.Label("creat").Ret(Errno(17));
  a.Label("trunc").Ret(Errno(18));
  a.Label("openat").Ld(Lo(0)).Jeq(0xffffff9c, "", "ebadf").Ld(Hi(0)).Jeq(0xffffffff, "cwd", "");
  a.Jeq(0, "cwd", "ebadf");
  a.Label("cwd").Ld(Lo(2)).Ld(Lo(2)).And(0xfffffffc).Jgt(0, "flags", "allow");
  a.Label("flags").Ld(Lo(2)).And(0x80000).Jeq(0x80000, "allow", "").Ret(Errno(22));
  a.Label("fcntl").Ld(Lo(1)).Jeq(1, "allow", "").Jeq(3, "allow", "").Ld(Lo(1));
  a.Jge(1024, "", "ebadf").Jgt(1030, "ebadf", "").Ret(Trap(1024));
  a.Label("close").Ld(Lo(0)).And(0xffffff00).Jeq(0, "", "ebadf").Ld(Lo(0)).Jset(0x80, "high", "");
  a.Ld(Lo(0)).Jset(0x7c, "ebadf", "").Ret(Errno(0));
  a.Label("high").Ld(Hi(0)).Jset(0x1, "ebadf", "").Ret(kLog);
  a.Label("allow").Ret(kAllow);
  a.Label("ebadf").Ret(Errno(9));
  a.Label("is32").Ld(kNr).And(0xff).Jeq(4, "a", "").Jgt(0x7f, "b", "c");
  a.Label("a").Ld(Lo(0)).And(0x3).Jset(0x3, "ebadf32", "allow32");
  a.Label("c").Ld(kNr).Jgt(0xff, "b", "").Ret(Errno(0x20));
  a.Label("b").Ret(Trap(32));
  a.Label("ebadf32").Ret(Errno(9));
  a.Label("allow32").Ret(kAllow);
  ASSIGN_OR_RETURN(std::string bytes, a.Bytes());
  return Built{std::move(bytes), {0, 1, 2, 3, 4, 0x80, 0x7c}};
}

// Every action class, with boundary data; no arch check at all.
absl::StatusOr<Built> HandAllActions() {
  const uint32_t rets[] = {kAllow,        Errno(0),   Errno(1),     Errno(4095), kKillProcess,
                           kKillThread,   Trap(0),    Trap(0xffff), kLog,        Trace(0),
                           Trace(0xffff), kUserNotif, Errno(0xfff), Trap(1),     Errno(2)};
  Asm a;
  a.Ld(kNr);
  for (size_t i = 0; i < std::size(rets); ++i)
    a.Jeq(static_cast<uint32_t>(i), absl::StrCat("r", i), "");
  a.Ld(kArch).Jeq(kAuditArchI386, "i386", "").Ret(kAllow);
  a.Label("i386").Ret(Errno(4094));
  for (size_t i = 0; i < std::size(rets); ++i) a.Label(absl::StrCat("r", i)).Ret(rets[i]);
  ASSIGN_OR_RETURN(std::string bytes, a.Bytes());
  return Built{std::move(bytes), {0, 1, 2}};
}

// A long program: jeq + ja to far-away returns (ja offsets in the thousands),
// a distinct return for every syscall number.
absl::StatusOr<Built> HandLongJa() {
  Asm a;
  a.Ld(kArch).Jeq(kAuditArchI386, "", "x64").Ja("i386");
  a.Label("x64").Ld(kNr);
  for (int n = 0; n <= 500; ++n)
    a.Jeq(static_cast<uint32_t>(n), "", absl::StrCat("n", n))
        .Ja(absl::StrCat("r", n))
        .Label(absl::StrCat("n", n));
  a.Ret(kKillProcess);
  a.Label("i386").Ld(kNr);
  for (int n = 0; n <= 450; n += 3)
    a.Jeq(static_cast<uint32_t>(n), "", absl::StrCat("m", n))
        .Ja(absl::StrCat("t", n))
        .Label(absl::StrCat("m", n));
  a.Ret(kKillThread);
  for (int n = 0; n <= 500; ++n)
    a.Label(absl::StrCat("r", n)).Ret(Errno(static_cast<uint32_t>(1 + n)));
  for (int n = 0; n <= 450; n += 3)
    a.Label(absl::StrCat("t", n)).Ret(Trap(static_cast<uint32_t>(n)));
  ASSIGN_OR_RETURN(std::string bytes, a.Bytes());
  return Built{std::move(bytes), {0, 1, 2}};
}

// A compared before any load, degenerate compares: always/never true, and 0, jt == jf == 0, a word
// loaded but never compared, the last argument's hi word, unreachable code.
absl::StatusOr<Built> HandEdges() {
  Asm a;
  a.Jeq(0, "start", "never").Label("start");  // A is 0 before any load
  a.Ld(Hi(5)).Jset(0, "never", "").Jgt(0xffffffff, "never", "").Jge(0, "", "never");
  a.Ld(kNr).Jeq(39, "", "").Jeq(39, "getpid", "");
  a.Ld(Lo(0)).And(0).Jeq(0, "", "never");
  a.Ld(Lo(1)).Ld(kArch).Jeq(kAuditArchX86_64, "x", "").Ret(Errno(2));
  a.Label("x").Ld(kNr).Jgt(500, "big", "").Ld(Hi(5)).Jeq(0xffffffff, "sext", "").Ret(kAllow);
  a.Label("sext").Ret(Trap(5));
  a.Label("big").Ld(Lo(5)).Jset(0x80000000, "neg", "pos");
  a.Label("neg").Ret(Errno(3));
  a.Label("pos").Ret(Errno(4));
  a.Label("getpid").Ret(kLog);
  a.Label("never").Ret(kKillProcess);
  a.Ret(Trap(9));  // unreachable
  ASSIGN_OR_RETURN(std::string bytes, a.Bytes());
  return Built{std::move(bytes), {0, 1, 2}};
}

// --- seeded random programs of the subset --------------------------------------

// `body` instructions of loads, ands, jumps and a few returns, then a tail of
// `tail` returns every jump can land on.
std::string RandomBytes(uint64_t seed, int body, int tail) {
  std::mt19937_64 rng(seed);
  auto pick = [&](std::initializer_list<uint32_t> v) { return *(v.begin() + rng() % v.size()); };
  auto ret = [&]() -> uint32_t {
    switch (rng() % 8) {
      case 0:
        return kAllow;
      case 1:
        return Errno(static_cast<uint32_t>(rng() % 4096));
      case 2:
        return kKillProcess;
      case 3:
        return kKillThread;
      case 4:
        return Trap(static_cast<uint32_t>(rng() & 0xffff));
      case 5:
        return kLog;
      case 6:
        return Trace(static_cast<uint32_t>(rng() & 0xffff));
      default:
        return kUserNotif;
    }
  };
  const int len = body + tail;
  std::vector<sock_filter> prog;
  int word = 0;
  for (int pc = 0; pc < body; ++pc) {
    const int rest = len - pc - 1;  // instructions after this one
    const int r = static_cast<int>(rng() % 100);
    if (pc == 0 || r < 24) {
      const int words[] = {0, 0, 0, 1, 1, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
      word = words[rng() % std::size(words)];
      prog.push_back(BPF_STMT(BPF_LD | BPF_W | BPF_ABS, static_cast<uint32_t>(4 * word)));
    } else if (r < 31) {
      uint32_t k = pick({0xff, 0xffff0000, kX32SyscallBit, 0xfffffffe, 0x80000000, 0x7,
                         static_cast<uint32_t>(rng())});
      prog.push_back(BPF_STMT(BPF_ALU | BPF_AND | BPF_K, k));
    } else if (r < 90) {
      uint32_t k;
      if (word == 0) {
        k = pick({0, 1, 2, 3, 9, 59, 60, 231, 322, 335, 336, kX32SyscallBit, kX32SyscallBit + 1,
                  kX32SyscallBit - 1, 0xffffffff, static_cast<uint32_t>(rng() % 500)});
      } else if (word == 1) {
        k = pick({kAuditArchX86_64, kAuditArchI386, 0x40000000, 0x80000000, 0xc0000000, 0});
      } else {
        k = pick({0, 1, 2, 3, 4, 7, 8, 0xff, 0x100, 0x7fffffff, 0x80000000, 0xffffffff,
                  static_cast<uint32_t>(rng() % 64), static_cast<uint32_t>(rng())});
      }
      const uint16_t op =
          static_cast<uint16_t>(pick({BPF_JEQ, BPF_JEQ, BPF_JGT, BPF_JGE, BPF_JSET}));
      // Mostly short hops inside the body, sometimes into the return tail.
      const int span = std::min(rest, rng() % 10 == 0 ? 256 : 6);
      const auto jt = static_cast<uint8_t>(rng() % span);
      const auto jf = rng() % 20 == 0 ? jt : static_cast<uint8_t>(rng() % span);
      prog.push_back(BPF_JUMP(static_cast<uint16_t>(BPF_JMP | op | BPF_K), k, jt, jf));
    } else if (r < 96) {
      prog.push_back(BPF_STMT(BPF_JMP | BPF_JA, static_cast<uint32_t>(rng() % std::min(rest, 8))));
    } else {
      prog.push_back(BPF_STMT(BPF_RET | BPF_K, ret()));
    }
  }
  for (int i = 0; i < tail; ++i) prog.push_back(BPF_STMT(BPF_RET | BPF_K, ret()));
  return std::string(reinterpret_cast<const char*>(prog.data()), prog.size() * sizeof(sock_filter));
}

// Random paths often contradict each other, leaving a handful of feasible
// leaves: take the first program from the seed on whose decision table has
// at least `min_leaves` leaves (deterministic for a seed).
absl::StatusOr<Built> RandomProgram(uint64_t seed, int body, int tail, size_t min_leaves) {
  for (int attempt = 0; attempt < 500; ++attempt) {
    std::string bytes = RandomBytes(seed + 7919 * static_cast<uint64_t>(attempt), body, tail);
    auto program = BpfProgram::Decode(bytes);
    if (!program.ok()) return program.status();
    auto table = DecisionTable::Build(*program);
    if (!table.ok() || table->leaves().size() < min_leaves) continue;
    return Built{std::move(bytes), {0, 1, 2, 3, 7, 8}};
  }
  return absl::NotFoundError("no random program with enough leaves");
}

struct Entry {
  const char* name;
  const char* kind;
  std::function<absl::StatusOr<Built>()> build;
};

const std::vector<Entry>& Entries() {
  static const std::vector<Entry> entries = {
      {"launcher_one_reader", "launcher", LauncherOneReader},
      {"launcher_phi_etl", "launcher", LauncherPhiEtl},
      {"launcher_many_fds", "launcher", LauncherManyFds},
      {"launcher_kill", "launcher", LauncherKill},
      {"launcher_high_fds_kill", "launcher", LauncherHighFdsKill},
      {"libseccomp_args_opt1", "libseccomp",
       [] { return LibseccompArgs(1, Errno(38), {SCMP_ARCH_X86}); }},
      {"libseccomp_args_opt2", "libseccomp",
       [] { return LibseccompArgs(2, Errno(38), {SCMP_ARCH_X86}); }},
      {"libseccomp_args_x32_opt2", "libseccomp",
       [] {
         return LibseccompArgs(2, SCMP_ACT_TRAP, {SCMP_ARCH_X86, SCMP_ARCH_X32});
       }},
      {"libseccomp_args_x64_opt1", "libseccomp", [] { return LibseccompArgs(1, kKillThread, {}); }},
      {"docker_like_opt1", "libseccomp", [] { return DockerLike(1); }},
      {"docker_like_opt2", "libseccomp", [] { return DockerLike(2); }},
      {"hand_jset_ja", "hand", HandJsetJa},
      {"hand_ranges", "hand", HandRanges},
      {"hand_masked_multiload", "hand", HandMaskedMultiLoad},
      {"hand_all_actions", "hand", HandAllActions},
      {"hand_long_ja", "hand", HandLongJa},
      {"hand_edges", "hand", HandEdges},
      {"random_0", "random", [] { return RandomProgram(1001, 24, 8, 16); }},
      {"random_1", "random", [] { return RandomProgram(1002, 32, 10, 24); }},
      {"random_2", "random", [] { return RandomProgram(1003, 40, 12, 32); }},
      {"random_3", "random", [] { return RandomProgram(1004, 48, 12, 48); }},
      {"random_4", "random", [] { return RandomProgram(1005, 56, 16, 64); }},
      {"random_5", "random", [] { return RandomProgram(1006, 64, 16, 64); }},
  };
  return entries;
}

}  // namespace

const std::vector<std::string>& CorpusNames() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> v;
    for (const Entry& e : Entries()) v.push_back(e.name);
    return v;
  }();
  return names;
}

absl::StatusOr<CorpusProgram> BuildCorpusProgram(const std::string& name) {
  for (const Entry& e : Entries()) {
    if (name != e.name) continue;
    auto built = e.build();
    if (!built.ok()) {
      return absl::Status(built.status().code(),
                          absl::StrCat(name, ": ", built.status().message()));
    }
    return CorpusProgram{e.name, e.kind, std::move(built->bytes), std::move(built->fds)};
  }
  return absl::NotFoundError(absl::StrCat("no corpus program ", name));
}

}  // namespace fdattest::bpf_diff
