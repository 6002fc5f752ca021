#include "launcher/filter.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/sched.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <termios.h>
#include <unistd.h>

#include <memory>
#include <set>

#include "absl/strings/str_cat.h"
#include "common/unique_fd.h"

namespace fdattest {
namespace {

struct ScmpCtxDeleter {
  void operator()(void* ctx) const { seccomp_release(ctx); }
};
using ScmpCtxPtr = std::unique_ptr<void, ScmpCtxDeleter>;

constexpr uint64_t kLow32 = 0xffffffffULL;
constexpr size_t kMaxMoverPairs = 16;

// Clone flags that would give the workload a new namespace or a new fd
// (CLONE_PIDFD). Only the low 32 bits matter to clone(2); CSIGNAL (the low
// byte) is the exit signal, so CLONE_NEWTIME (0x80, clone3 only) is not here.
constexpr uint64_t kForbiddenCloneFlags = CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS |
                                          CLONE_NEWIPC | CLONE_NEWUSER | CLONE_NEWPID |
                                          CLONE_NEWNET | CLONE_PIDFD;

constexpr unsigned long kIoctlAllowlist[] = {TCGETS, TIOCGWINSZ, TIOCGPGRP, FIONREAD};
constexpr int kFcntlAllowlist[] = {F_GETFD, F_GETFL};
// Only reading the task name: PR_SET_NAME would write the workload's bytes
// into /proc/PID/comm and /proc/PID/stat, which every local user can read, a
// channel outside the declared fds (docs/filter.md).
constexpr int kPrctlAllowlist[] = {PR_GET_NAME};

// Syscalls with no descriptor or foreign-process argument that a confined
// program needs to run at all. Nothing here moves data through a descriptor.
constexpr int kUnconditional[] = {
    SCMP_SYS(brk), SCMP_SYS(mprotect), SCMP_SYS(munmap), SCMP_SYS(mremap), SCMP_SYS(madvise),
    SCMP_SYS(arch_prctl), SCMP_SYS(set_tid_address), SCMP_SYS(set_robust_list), SCMP_SYS(rseq),
    SCMP_SYS(getrandom), SCMP_SYS(getpid), SCMP_SYS(gettid), SCMP_SYS(getppid), SCMP_SYS(getuid),
    SCMP_SYS(geteuid), SCMP_SYS(getgid), SCMP_SYS(getegid), SCMP_SYS(getgroups),
    SCMP_SYS(getresuid), SCMP_SYS(getresgid), SCMP_SYS(getpgrp), SCMP_SYS(exit),
    SCMP_SYS(exit_group), SCMP_SYS(rt_sigaction), SCMP_SYS(rt_sigprocmask),
    SCMP_SYS(rt_sigreturn), SCMP_SYS(rt_sigpending), SCMP_SYS(rt_sigtimedwait),
    SCMP_SYS(rt_sigsuspend), SCMP_SYS(sigaltstack), SCMP_SYS(pause), SCMP_SYS(restart_syscall),
    SCMP_SYS(clock_gettime), SCMP_SYS(clock_getres), SCMP_SYS(clock_nanosleep),
    SCMP_SYS(nanosleep), SCMP_SYS(gettimeofday), SCMP_SYS(time), SCMP_SYS(futex),
    SCMP_SYS(sched_yield), SCMP_SYS(sched_getaffinity), SCMP_SYS(uname), SCMP_SYS(getrlimit),
    SCMP_SYS(getrusage), SCMP_SYS(times), SCMP_SYS(poll), SCMP_SYS(ppoll), SCMP_SYS(select),
    SCMP_SYS(pselect6), SCMP_SYS(wait4), SCMP_SYS(getcwd),
};

// Hot syscalls first in the generated program (libseccomp priority hint).
// write before read: libseccomp tests fd values highest first, and a typical
// profile declares more output fds (output, log, sink) than inputs, so this
// order keeps both hot paths short (docs/BENCHMARKS.md, section 3).
constexpr int kHot[] = {SCMP_SYS(write), SCMP_SYS(read), SCMP_SYS(writev), SCMP_SYS(readv)};

scmp_arg_cmp FdIs(unsigned arg, int fd) {
  return SCMP_CMP(arg, SCMP_CMP_MASKED_EQ, kLow32, static_cast<uint64_t>(fd));
}
scmp_arg_cmp Low32Is(unsigned arg, uint64_t value) {
  return SCMP_CMP(arg, SCMP_CMP_MASKED_EQ, kLow32, value & kLow32);
}
// Matches every value; used as the per-syscall fallback after the specific
// rules, on the lowest argument index those rules compare (libseccomp collapses mask-0 compares, so this is a >= 0 test). Note
// libseccomp refuses rules whose action equals the default action, so a
// refusal that must differ from the fallback can only be the default (EPERM)
// when no fallback exists for that syscall.
scmp_arg_cmp AnyValue(unsigned arg) { return SCMP_CMP(arg, SCMP_CMP_GE, 0); }

// Records the first libseccomp failure, like sandbox2's PolicyBuilder.
class RuleAdder {
 public:
  RuleAdder(void* ctx, OnViolation mode) : ctx_(ctx), mode_(mode) {}

  bool errno_mode() const { return mode_ == OnViolation::kErrno; }

  void Add(uint32_t action, int nr, std::initializer_list<scmp_arg_cmp> cmps) {
    if (!status_.ok()) return;
    std::vector<scmp_arg_cmp> v(cmps);
    int rc = seccomp_rule_add_exact_array(ctx_, action, nr, static_cast<unsigned>(v.size()),
                                          v.empty() ? nullptr : v.data());
    if (rc != 0) {
      char* name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, nr);
      status_ = absl::InternalError(absl::StrCat("libseccomp rejected a rule for ",
                                                 name ? name : "?", ": ", strerror(-rc)));
      free(name);
    }
  }
  // In errno mode, `nr` on any descriptor not matched by an earlier rule
  // answers `err`; in kill mode the default action (kill) already applies.
  void FallbackErrno(int nr, unsigned fd_arg, int err) {
    if (errno_mode()) Add(SCMP_ACT_ERRNO(static_cast<uint16_t>(err)), nr, {AnyValue(fd_arg)});
  }
  const absl::Status& status() const { return status_; }

 private:
  void* ctx_;
  OnViolation mode_;
  absl::Status status_;
};

// read and write, the hot path, allow only the exact 64-bit value (high word
// 0): libseccomp then tests the high word with one `jeq` instead of
// `and 0; jeq`, and a caller passing junk in the high word is refused rather
// than truncated. The exact form is the stricter one and is safe for allow
// rules; refusals are never keyed on an fd value (they are fallbacks).
// (Aligned fd blocks as masked compares were tried: libseccomp reloads the
// word for every distinct mask, which made the path longer.)
void AddHotFdRules(RuleAdder& r, int nr, const std::set<int>& fds) {
  for (int fd : fds) r.Add(SCMP_ACT_ALLOW, nr, {SCMP_CMP(0, SCMP_CMP_EQ, static_cast<uint64_t>(fd))});
}

}  // namespace

absl::StatusOr<std::string> CompileFilter(const FilterSpec& spec) {
  if (seccomp_arch_native() != SCMP_ARCH_X86_64) {
    return absl::FailedPreconditionError("fdlaunch filters are defined for x86_64 only");
  }
  std::set<int> readable, writable, append, declared;
  for (const FilterFd& f : spec.fds) {
    if (f.fd < 0 || f.fd > kMaxDeclaredFd) {
      return absl::InvalidArgumentError(absl::StrCat("fd ", f.fd, " out of range"));
    }
    if (!declared.insert(f.fd).second) {
      return absl::InvalidArgumentError(absl::StrCat("fd ", f.fd, " declared twice"));
    }
    if (Readable(f.access)) readable.insert(f.fd);
    if (Writable(f.access)) writable.insert(f.fd);
    if (f.access == Access::kAppend) append.insert(f.fd);
  }
  if (spec.exec_fd >= 0 && declared.contains(spec.exec_fd)) {
    return absl::InvalidArgumentError("exec fd collides with a declared fd");
  }
  std::set<int> seekable;  // declared, not append-only
  std::set<int> positional_writable;
  for (int fd : declared) {
    if (!append.contains(fd)) seekable.insert(fd);
  }
  for (int fd : writable) {
    if (!append.contains(fd)) positional_writable.insert(fd);
  }

  const uint32_t default_action = spec.on_violation == OnViolation::kErrno
                                      ? SCMP_ACT_ERRNO(EPERM)
                                      : SCMP_ACT_KILL_PROCESS;
  ScmpCtxPtr ctx(seccomp_init(default_action));
  if (!ctx) return absl::InternalError("seccomp_init failed");
  if (seccomp_attr_set(ctx.get(), SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS) != 0) {
    return absl::InternalError("cannot set the bad-arch action");
  }
  for (size_t i = 0; i < std::size(kHot); ++i) {
    seccomp_syscall_priority(ctx.get(), kHot[i], static_cast<uint8_t>(255 - i));
  }

  RuleAdder r(ctx.get(), spec.on_violation);
  const uint32_t allow = SCMP_ACT_ALLOW;

  for (int nr : kUnconditional) r.Add(allow, nr, {});

  // Read family: the descriptor must be a readable declared fd.
  for (int nr : {SCMP_SYS(read), SCMP_SYS(readv), SCMP_SYS(pread64), SCMP_SYS(preadv),
                 SCMP_SYS(preadv2), SCMP_SYS(recvfrom)}) {
    if (nr == SCMP_SYS(read)) {
      AddHotFdRules(r, nr, readable);
    } else {
      for (int fd : readable) r.Add(allow, nr, {FdIs(0, fd)});
    }
    r.FallbackErrno(nr, 0, EBADF);
  }
  // Write family. Positional writes never on append-only fds.
  for (int nr : {SCMP_SYS(write), SCMP_SYS(writev)}) {
    if (nr == SCMP_SYS(write)) {
      AddHotFdRules(r, nr, writable);
    } else {
      for (int fd : writable) r.Add(allow, nr, {FdIs(0, fd)});
    }
    r.FallbackErrno(nr, 0, EBADF);
  }
  for (int nr : {SCMP_SYS(pwrite64), SCMP_SYS(pwritev), SCMP_SYS(pwritev2)}) {
    for (int fd : positional_writable) {
      if (nr == SCMP_SYS(pwritev2)) {
        r.Add(allow, nr, {FdIs(0, fd), Low32Is(5, 0)});  // no RWF_* flags
      } else {
        r.Add(allow, nr, {FdIs(0, fd)});
      }
    }
    // Append-only fds fall through to EBADF: they are not open for
    // positional writing.
    r.FallbackErrno(nr, 0, EBADF);
  }
  // sendto only without a destination address (connected sockets).
  for (int fd : writable) r.Add(allow, SCMP_SYS(sendto), {FdIs(0, fd), SCMP_A4(SCMP_CMP_EQ, 0)});
  r.FallbackErrno(SCMP_SYS(sendto), 0, EBADF);

  // Zero-copy movers: every descriptor argument is checked, which takes one
  // rule per (source, destination) pair. Past kMaxMoverPairs the filter would
  // grow quadratically, so movers are refused (EBADF) and programs fall back
  // to read/write.
  struct Mover {
    int nr;
    unsigned in_arg, out_arg;
  };
  const bool movers = readable.size() * writable.size() <= kMaxMoverPairs;
  for (Mover m : {Mover{SCMP_SYS(sendfile), 1, 0}, Mover{SCMP_SYS(splice), 0, 2},
                  Mover{SCMP_SYS(tee), 0, 1}, Mover{SCMP_SYS(copy_file_range), 0, 2}}) {
    for (int in : movers ? readable : std::set<int>{}) {
      for (int out : writable) r.Add(allow, m.nr, {FdIs(m.in_arg, in), FdIs(m.out_arg, out)});
    }
    r.FallbackErrno(m.nr, m.out_arg < m.in_arg ? m.out_arg : m.in_arg, EBADF);
  }
  for (int fd : declared) r.Add(allow, SCMP_SYS(vmsplice), {FdIs(0, fd)});
  r.FallbackErrno(SCMP_SYS(vmsplice), 0, EBADF);

  // mmap: anonymous memory, or a readable declared fd.
  r.Add(allow, SCMP_SYS(mmap), {SCMP_A3(SCMP_CMP_MASKED_EQ, MAP_ANONYMOUS, MAP_ANONYMOUS)});
  for (int fd : readable) r.Add(allow, SCMP_SYS(mmap), {FdIs(4, fd)});
  // libseccomp tests higher argument indexes first, so a fallback must sit
  // on the lowest index any rule of the syscall compares (here flags, a3).
  r.FallbackErrno(SCMP_SYS(mmap), 3, EBADF);

  // Metadata and position on declared fds.
  // lseek moves no data: refused (append-only or undeclared) is the default EPERM.
  for (int fd : seekable) r.Add(allow, SCMP_SYS(lseek), {FdIs(0, fd)});
  for (int fd : declared) r.Add(allow, SCMP_SYS(fstat), {FdIs(0, fd)});
  r.FallbackErrno(SCMP_SYS(fstat), 0, EBADF);
  for (int nr : {SCMP_SYS(fsync), SCMP_SYS(fdatasync)}) {
    for (int fd : writable) r.Add(allow, nr, {FdIs(0, fd)});
    r.FallbackErrno(nr, 0, EBADF);
  }
  // close on a declared fd is absorbed: it returns 0 without closing (RET_ERRNO
  // with data 0), so the number can never be vacated, yet programs that check
  // close(1) (busybox gzip) still succeed. The same in kill mode: it is not a
  // refusal the program can observe. close_range stays refused (default).
  for (int fd : declared) r.Add(SCMP_ACT_ERRNO(0), SCMP_SYS(close), {FdIs(0, fd)});
  r.FallbackErrno(SCMP_SYS(close), 0, EBADF);

  // ioctl and fcntl by command allowlist on declared fds.
  for (int fd : declared) {
    for (unsigned long cmd : kIoctlAllowlist) {
      r.Add(allow, SCMP_SYS(ioctl), {FdIs(0, fd), Low32Is(1, cmd)});
    }
    for (int cmd : kFcntlAllowlist) {
      r.Add(allow, SCMP_SYS(fcntl), {FdIs(0, fd), Low32Is(1, static_cast<uint64_t>(cmd))});
    }
  }
  r.FallbackErrno(SCMP_SYS(ioctl), 0, ENOTTY);

  // Static glibc calls readlink("/proc/self/exe") at start-up and tolerates
  // failure. Path-based calls cannot be confined by BPF, so they answer
  // ENOENT, which reveals nothing; like clone3 this is a compatibility answer
  // and the same in kill mode, or no static glibc program could run there.
  for (int nr : {SCMP_SYS(readlink), SCMP_SYS(readlinkat)}) r.Add(SCMP_ACT_ERRNO(ENOENT), nr, {});

  // Processes: threads and plain forks, never new namespaces or pidfds.
  // clone3 keeps its flags in memory BPF cannot read: ENOSYS makes glibc fall
  // back to clone, whose flags we can check. This is a compatibility answer,
  // so it is the same in kill mode.
  r.Add(SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), {});
  r.Add(allow, SCMP_SYS(clone), {SCMP_A0(SCMP_CMP_MASKED_EQ, kForbiddenCloneFlags, 0)});
  for (int option : kPrctlAllowlist) {
    r.Add(allow, SCMP_SYS(prctl), {Low32Is(0, static_cast<uint64_t>(option))});
  }
  // prlimit64 only to read its own limits (new_limit == NULL): raising
  // RLIMIT_CORE would re-enable core dumps, a channel out of the fd set.
  r.Add(allow, SCMP_SYS(prlimit64), {Low32Is(0, 0), SCMP_A2(SCMP_CMP_EQ, 0)});

  // The launcher's own exec of the measured binary.
  if (spec.exec_fd >= 0) {
    r.Add(allow, SCMP_SYS(execveat), {FdIs(0, spec.exec_fd), Low32Is(4, AT_EMPTY_PATH)});
  }
  RETURN_IF_ERROR(r.status());

  // libseccomp 2.5 exports only to a descriptor; a sealed-off memfd keeps the
  // bytes in memory.
  UniqueFd mem(static_cast<int>(syscall(SYS_memfd_create, "fdattest-bpf", MFD_CLOEXEC)));
  if (!mem) return ErrnoStatus("memfd_create for the filter export", errno);
  int rc = seccomp_export_bpf(ctx.get(), mem.get());
  if (rc != 0) return absl::InternalError(absl::StrCat("seccomp_export_bpf: ", strerror(-rc)));
  off_t size = lseek(mem.get(), 0, SEEK_END);
  if (size <= 0 || size % sizeof(sock_filter) != 0 ||
      size > static_cast<off_t>(BPF_MAXINSNS * sizeof(sock_filter))) {
    return absl::InternalError(absl::StrCat("exported filter has invalid size ", size));
  }
  std::string bpf(static_cast<size_t>(size), '\0');
  if (pread(mem.get(), bpf.data(), bpf.size(), 0) != size) {
    return ErrnoStatus("reading back the exported filter", errno);
  }
  return bpf;
}

absl::Status InstallFilter(absl::string_view bpf, uint32_t flags) {
  if (bpf.empty() || bpf.size() % sizeof(sock_filter) != 0 ||
      bpf.size() > BPF_MAXINSNS * sizeof(sock_filter)) {
    return absl::InvalidArgumentError("filter size is not a whole number of instructions");
  }
  // Copy into aligned storage: the kernel reads sock_filter structs.
  std::vector<sock_filter> insns(bpf.size() / sizeof(sock_filter));
  memcpy(insns.data(), bpf.data(), bpf.size());
  sock_fprog prog{.len = static_cast<unsigned short>(insns.size()), .filter = insns.data()};
  if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &prog) != 0) {
    return ErrnoStatus("seccomp(SECCOMP_SET_MODE_FILTER)", errno);
  }
  return absl::OkStatus();
}

}  // namespace fdattest
