// Loosening vectors: the launcher's filter with one rule loosened at a time
// (a profile that grants more than it declares, a refusal patched into ALLOW
// at the byte level, the arch or x32 guard removed, a deny rule compared on
// 64 bits). CheckLauncherProperties must refute each one, and every
// counterexample it gives is replayed through the live kernel, which must
// answer exactly what the checker says — a genuinely bad outcome.
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

#include <algorithm>
#include <functional>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/bpf.h"
#include "common/bpf_properties.h"
#include "common/bpf_symbolic.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "launcher/filter.h"
#include "tests/support/ia32.h"
#include "tests/support/kernel_oracle.h"

namespace fdattest {
namespace {

// The profile every vector starts from: fd 0 read, fd 1 write, fd 2 append,
// fd 3 read-write, fd 9 the measured executable.
FilterSpec BaseSpec() {
  return FilterSpec{.fds = {{0, Access::kRead}, {1, Access::kWrite}, {2, Access::kAppend},
                            {3, Access::kReadWrite}},
                    .exec_fd = 9};
}
FdSets BaseFds() {
  return FdSets{.readable = {0, 3}, .writable = {1, 2, 3}, .append = {2}, .exec_fd = 9};
}

// ---- Program surgery -----------------------------------------------------------

absl::StatusOr<std::vector<BpfInsn>> Insns(const std::string& bytes) {
  ASSIGN_OR_RETURN(BpfProgram p, BpfProgram::Decode(bytes));
  return p.insns();
}

std::string Encode(const std::vector<BpfInsn>& insns) {
  std::string out;
  for (const BpfInsn& in : insns) {
    const uint8_t b[8] = {static_cast<uint8_t>(in.code), static_cast<uint8_t>(in.code >> 8),
                          in.jt, in.jf,
                          static_cast<uint8_t>(in.k), static_cast<uint8_t>(in.k >> 8),
                          static_cast<uint8_t>(in.k >> 16), static_cast<uint8_t>(in.k >> 24)};
    out.append(reinterpret_cast<const char*>(b), sizeof(b));
  }
  return out;
}

SeccompInput X86(uint32_t nr, std::vector<uint64_t> args = {}) {
  SeccompInput in;
  in.w[0] = nr;
  in.w[1] = kAuditArchX86_64;
  for (size_t i = 0; i < args.size(); ++i) in.set_arg(static_cast<int>(i), args[i]);
  return in;
}

// The pc of the `ret` an input reaches (the subset's semantics, as
// BpfProgram::Evaluate, but keeping the position).
size_t RetPc(const std::vector<BpfInsn>& insns, const SeccompInput& in) {
  uint32_t a = 0;
  size_t pc = 0;
  for (;;) {
    const BpfInsn& i = insns.at(pc);
    switch (i.code) {
      case BPF_LD | BPF_W | BPF_ABS: a = in.w[i.k / 4]; ++pc; break;
      case BPF_ALU | BPF_AND | BPF_K: a &= i.k; ++pc; break;
      case BPF_JMP | BPF_JA: pc += 1 + i.k; break;
      case BPF_JMP | BPF_JEQ | BPF_K: pc += 1 + (a == i.k ? i.jt : i.jf); break;
      case BPF_JMP | BPF_JGT | BPF_K: pc += 1 + (a > i.k ? i.jt : i.jf); break;
      case BPF_JMP | BPF_JGE | BPF_K: pc += 1 + (a >= i.k ? i.jt : i.jf); break;
      case BPF_JMP | BPF_JSET | BPF_K: pc += 1 + ((a & i.k) != 0 ? i.jt : i.jf); break;
      default: return pc;
    }
  }
}

// The first instruction at or after `from` with this code and k.
absl::StatusOr<size_t> Find(const std::vector<BpfInsn>& insns, uint16_t code, uint32_t k,
                            size_t from = 0) {
  for (size_t pc = from; pc < insns.size(); ++pc) {
    if (insns[pc].code == code && insns[pc].k == k) return pc;
  }
  return absl::NotFoundError(absl::StrFormat("no instruction code=0x%x k=0x%x after %d", code, k, from));
}

// Where the syscall dispatch sends `nr`: the jt target of the `jeq nr` that
// runs while the accumulator holds the syscall number on every path into it
// (a forward dataflow pass; all jumps are forward).
absl::StatusOr<size_t> DispatchTarget(const std::vector<BpfInsn>& insns, uint32_t nr) {
  enum : int8_t { kUnreached = -1, kOther = 0, kNr = 1 };
  std::vector<int8_t> in_state(insns.size() + 1, kUnreached);
  in_state[0] = kOther;
  auto flow = [&](size_t to, int8_t s) {
    if (to >= insns.size()) return;
    in_state[to] = in_state[to] == kUnreached ? s : std::min(in_state[to], s);
  };
  for (size_t pc = 0; pc < insns.size(); ++pc) {
    const BpfInsn& in = insns[pc];
    const int8_t s = in_state[pc];
    if (s == kUnreached) continue;
    switch (BPF_CLASS(in.code)) {
      case BPF_LD:
        flow(pc + 1, in.code == (BPF_LD | BPF_W | BPF_ABS) && in.k == 0 ? kNr : kOther);
        break;
      case BPF_ALU:
        flow(pc + 1, kOther);
        break;
      case BPF_JMP:
        if (in.code == (BPF_JMP | BPF_JA)) {
          flow(pc + 1 + in.k, s);
          break;
        }
        if (s == kNr && in.code == (BPF_JMP | BPF_JEQ | BPF_K) && in.k == nr) return pc + 1 + in.jt;
        flow(pc + 1 + in.jt, s);
        flow(pc + 1 + in.jf, s);
        break;
      default:
        break;
    }
  }
  return absl::NotFoundError(absl::StrCat("no dispatch for syscall ", nr));
}

// The launcher filter with the `ret` that `probe` reaches turned into
// `replacement` (ALLOW unless said otherwise).
absl::StatusOr<std::string> RefusalToAllow(FilterSpec spec, SeccompInput probe,
                                           uint32_t expect_ret,
                                           uint32_t replacement = SECCOMP_RET_ALLOW) {
  ASSIGN_OR_RETURN(std::string bytes, CompileFilter(spec));
  ASSIGN_OR_RETURN(std::vector<BpfInsn> insns, Insns(bytes));
  size_t pc = RetPc(insns, probe);
  if (insns[pc].k != expect_ret) {
    return absl::FailedPreconditionError(absl::StrCat("probe reaches ", DescribeRet(insns[pc].k),
                                                      ", expected ", DescribeRet(expect_ret)));
  }
  insns[pc].k = replacement;
  return Encode(insns);
}

// The launcher filter with one instruction edited.
absl::StatusOr<std::string> Patched(
    const std::function<absl::Status(std::vector<BpfInsn>&)>& edit) {
  ASSIGN_OR_RETURN(std::string bytes, CompileFilter(BaseSpec()));
  ASSIGN_OR_RETURN(std::vector<BpfInsn> insns, Insns(bytes));
  RETURN_IF_ERROR(edit(insns));
  return Encode(insns);
}

// ---- A small libseccomp filter shaped like the launcher's ----------------------

struct ScmpCtxDeleter {
  void operator()(void* ctx) const { seccomp_release(ctx); }
};

scmp_arg_cmp Low32(unsigned arg, uint64_t v) {
  return SCMP_CMP(arg, SCMP_CMP_MASKED_EQ, 0xffffffffULL, v);
}

// Default EPERM, foreign arch and x32 killed, read on 0/3 and write on 1/2/3
// (low-32 compares), plus whatever `extra` adds.
absl::StatusOr<std::string> ScmpFilter(const std::function<int(void*)>& extra) {
  std::unique_ptr<void, ScmpCtxDeleter> ctx(seccomp_init(SCMP_ACT_ERRNO(EPERM)));
  if (!ctx) return absl::InternalError("seccomp_init");
  int rc = seccomp_attr_set(ctx.get(), SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS);
  for (int nr : {SCMP_SYS(exit_group), SCMP_SYS(brk), SCMP_SYS(getpid)}) {
    rc = rc ?: seccomp_rule_add_exact(ctx.get(), SCMP_ACT_ALLOW, nr, 0);
  }
  for (int fd : {0, 3}) rc = rc ?: seccomp_rule_add_exact(ctx.get(), SCMP_ACT_ALLOW, SCMP_SYS(read), 1, Low32(0, fd));
  for (int fd : {1, 2, 3}) rc = rc ?: seccomp_rule_add_exact(ctx.get(), SCMP_ACT_ALLOW, SCMP_SYS(write), 1, Low32(0, fd));
  if (extra) rc = rc ?: extra(ctx.get());
  if (rc != 0) return absl::InternalError(absl::StrCat("libseccomp rule: ", strerror(-rc)));
  // libseccomp exports only to a descriptor; a memfd keeps it in memory.
  int fd = static_cast<int>(syscall(SYS_memfd_create, "bpf-vectors", MFD_CLOEXEC));
  if (fd < 0) return absl::InternalError("memfd_create");
  rc = seccomp_export_bpf(ctx.get(), fd);
  std::string out;
  if (rc == 0) {
    off_t size = lseek(fd, 0, SEEK_END);
    out.resize(static_cast<size_t>(size));
    if (pread(fd, out.data(), out.size(), 0) != size) rc = -EIO;
  }
  close(fd);
  if (rc != 0) return absl::InternalError(absl::StrCat("seccomp_export_bpf: ", strerror(-rc)));
  return out;
}

// `nr` refused (ERRNO `err`) when `arg` equals one of `fds` as a full 64-bit
// value, allowed otherwise: the deny-shaped rule with the wrong width.
std::function<int(void*)> Deny64(int nr, unsigned arg, std::vector<uint64_t> values, int err) {
  return [=](void* ctx) {
    int rc = 0;
    for (uint64_t v : values) {
      rc = rc ?: seccomp_rule_add_exact(ctx, SCMP_ACT_ERRNO(static_cast<uint16_t>(err)), nr, 1,
                                        SCMP_CMP(arg, SCMP_CMP_EQ, v));
    }
    return rc ?: seccomp_rule_add_exact(ctx, SCMP_ACT_ALLOW, nr, 1, SCMP_CMP(arg, SCMP_CMP_GE, 0));
  };
}

// ---- The vectors ---------------------------------------------------------------

// What a refuted property's counterexample must show to be a real breach.
enum class Bad {
  kAllow,             // the kernel lets the syscall run
  kNotKillProcess,    // a foreign-ABI call survives
  kNotAllow,          // a declared use is refused (completeness)
  kDeferred,          // TRAP/TRACE/USER_NOTIF/LOG/KILL_THREAD: decided elsewhere
};

// A hi-word bypass the checker's counterexample need not show by itself: the
// deny value with junk in the high word reaches ALLOW (and without it not).
struct HiJunk {
  uint32_t nr;
  int arg;
  uint32_t lo;
};

struct Loosening {
  std::string name;
  std::function<absl::StatusOr<std::string>()> build;
  std::string property;  // must be refuted
  Bad bad = Bad::kAllow;
  FdSets fds = BaseFds();
  std::optional<HiJunk> hi_junk;
  // When set: the refuted property's counterexample is this syscall with
  // this low word of args[0] (the loosening itself, not another breach).
  std::optional<std::pair<uint32_t, uint32_t>> witness_nr_arg0;
};
void PrintTo(const Loosening& l, std::ostream* os) { *os << l.name; }

std::vector<Loosening> Loosenings() {
  std::vector<Loosening> v;
  auto spec_with = [](std::function<void(FilterSpec&)> change) {
    return [change]() -> absl::StatusOr<std::string> {
      FilterSpec s = BaseSpec();
      change(s);
      return CompileFilter(s);
    };
  };
  // -- The profile grants more than the FdSets claim.
  v.push_back({"spec_extra_readable_fd",
               spec_with([](FilterSpec& s) { s.fds.push_back({4, Access::kRead}); }),
               "read-family-fds"});
  v.push_back({"spec_write_fd_made_readable",
               spec_with([](FilterSpec& s) { s.fds[1].access = Access::kReadWrite; }),
               "read-family-fds"});
  v.push_back({"spec_read_fd_made_writable",
               spec_with([](FilterSpec& s) { s.fds[0].access = Access::kReadWrite; }),
               "write-family-fds"});
  v.push_back({"spec_append_fd_made_positional",
               spec_with([](FilterSpec& s) { s.fds[2].access = Access::kWrite; }),
               "append-only-kept"});
  v.push_back({"spec_other_exec_fd", spec_with([](FilterSpec& s) { s.exec_fd = 8; }),
               "process-confined"});
  // -- A refusal turned into ALLOW at the byte level.
  v.push_back({"default_eperm_to_allow",
               [] { return RefusalToAllow(BaseSpec(), X86(SYS_openat, {uint64_t(AT_FDCWD)}), SECCOMP_RET_ERRNO | EPERM); },
               "never-allowed"});
  v.push_back({"read_fallback_ebadf_to_allow",
               [] { return RefusalToAllow(BaseSpec(), X86(SYS_read, {5}), SECCOMP_RET_ERRNO | EBADF); },
               "read-family-fds"});
  v.push_back({"write_fallback_ebadf_to_allow",
               [] { return RefusalToAllow(BaseSpec(), X86(SYS_write, {0}), SECCOMP_RET_ERRNO | EBADF); },
               "write-family-fds"});
  v.push_back({"execveat_refusal_to_allow",
               [] { return RefusalToAllow(BaseSpec(), X86(SYS_execveat, {5, 0, 0, 0, AT_EMPTY_PATH}), SECCOMP_RET_ERRNO | EPERM); },
               "process-confined"});
  // The task name is world-readable: a filter that lets the workload set it
  // (and is otherwise as tight as the small libseccomp filter) is refused.
  {
    Loosening l{"prctl_set_name_allowed", [] {
                  return ScmpFilter([](void* ctx) {
                    return seccomp_rule_add_exact(ctx, SCMP_ACT_ALLOW, SCMP_SYS(prctl), 1,
                                                  Low32(0, PR_SET_NAME));
                  });
                },
                "process-confined"};
    l.witness_nr_arg0 = {SYS_prctl, PR_SET_NAME};
    v.push_back(l);
  }
  v.push_back({"ioctl_enotty_to_allow",
               [] { return RefusalToAllow(BaseSpec(), X86(SYS_ioctl, {0, TIOCSTI}), SECCOMP_RET_ERRNO | ENOTTY); },
               "fd-control"});
  v.push_back({"close_absorbed_to_allow",
               [] { return RefusalToAllow(BaseSpec(), X86(SYS_close, {1}), SECCOMP_RET_ERRNO | 0); },
               "never-allowed"});
  v.push_back({"clone3_enosys_to_allow",
               [] { return RefusalToAllow(BaseSpec(), X86(SYS_clone3), SECCOMP_RET_ERRNO | ENOSYS); },
               "never-allowed"});
  v.push_back({"readlink_enoent_to_allow",
               [] { return RefusalToAllow(BaseSpec(), X86(SYS_readlink), SECCOMP_RET_ERRNO | ENOENT); },
               "never-allowed"});
  v.push_back({"kill_mode_default_to_allow",
               [] {
                 FilterSpec s = BaseSpec();
                 s.on_violation = OnViolation::kKill;
                 return RefusalToAllow(s, X86(SYS_dup2, {5, 1}), SECCOMP_RET_KILL_PROCESS);
               },
               "never-allowed"});
  // -- A refusal turned into an action decided outside the filter.
  v.push_back({"default_eperm_to_trace",
               [] { return RefusalToAllow(BaseSpec(), X86(SYS_openat), SECCOMP_RET_ERRNO | EPERM, SECCOMP_RET_TRACE); },
               "no-deferred-actions", Bad::kDeferred});
  v.push_back({"readlink_enoent_to_log",
               [] { return RefusalToAllow(BaseSpec(), X86(SYS_readlink), SECCOMP_RET_ERRNO | ENOENT, SECCOMP_RET_LOG); },
               "no-deferred-actions", Bad::kDeferred});
  v.push_back({"bad_arch_kill_process_to_kill_thread",
               [] {
                 SeccompInput i386 = X86(SYS_write, {1});
                 i386.w[1] = kAuditArchI386;
                 return RefusalToAllow(BaseSpec(), i386, SECCOMP_RET_KILL_PROCESS, SECCOMP_RET_KILL_THREAD);
               },
               "x32-killed", Bad::kNotKillProcess});
  // -- The foreign-ABI guards.
  v.push_back({"x32_check_removed",
               [] {
                 return Patched([](std::vector<BpfInsn>& in) -> absl::Status {
                   ASSIGN_OR_RETURN(size_t pc, Find(in, BPF_JMP | BPF_JGE | BPF_K, kX32SyscallBit));
                   in[pc].jt = in[pc].jf;  // never to the kill
                   return absl::OkStatus();
                 });
               },
               "x32-killed", Bad::kNotKillProcess});
  v.push_back({"x32_check_off_by_one",
               [] {
                 return Patched([](std::vector<BpfInsn>& in) -> absl::Status {
                   ASSIGN_OR_RETURN(size_t pc, Find(in, BPF_JMP | BPF_JGE | BPF_K, kX32SyscallBit));
                   in[pc].code = BPF_JMP | BPF_JGT | BPF_K;  // 0x40000000 itself slips through
                   return absl::OkStatus();
                 });
               },
               "x32-killed", Bad::kNotKillProcess});
  v.push_back({"arch_check_removed",
               [] {
                 return Patched([](std::vector<BpfInsn>& in) -> absl::Status {
                   ASSIGN_OR_RETURN(size_t pc, Find(in, BPF_JMP | BPF_JEQ | BPF_K, kAuditArchX86_64));
                   in[pc].jf = in[pc].jt;  // every arch dispatched as x86_64
                   return absl::OkStatus();
                 });
               },
               "foreign-arch-killed", Bad::kNotKillProcess});
  // -- One rule widened.
  v.push_back({"openat_allowed",
               [] {
                 return Patched([](std::vector<BpfInsn>& in) -> absl::Status {
                   // getpid's unconditional allow now names openat.
                   ASSIGN_OR_RETURN(size_t block, DispatchTarget(in, SYS_getpid));
                   ASSIGN_OR_RETURN(size_t pc, Find(in, BPF_JMP | BPF_JEQ | BPF_K, SYS_getpid, 6));
                   if (pc + 1 + in[pc].jt != block || in[block].k != SECCOMP_RET_ALLOW) {
                     return absl::NotFoundError("getpid's allow");
                   }
                   in[pc].k = SYS_openat;
                   return absl::OkStatus();
                 });
               },
               "never-allowed"});
  v.push_back({"read_rule_fd_retargeted",
               [] {
                 return Patched([](std::vector<BpfInsn>& in) -> absl::Status {
                   ASSIGN_OR_RETURN(size_t block, DispatchTarget(in, SYS_read));
                   ASSIGN_OR_RETURN(size_t pc, Find(in, BPF_JMP | BPF_JEQ | BPF_K, 3, block));
                   in[pc].k = 5;  // fd 5 instead of fd 3
                   return absl::OkStatus();
                 });
               },
               "read-family-fds"});
  v.push_back({"pwrite64_on_append_fd",
               [] {
                 return Patched([](std::vector<BpfInsn>& in) -> absl::Status {
                   ASSIGN_OR_RETURN(size_t block, DispatchTarget(in, SYS_pwrite64));
                   ASSIGN_OR_RETURN(size_t pc, Find(in, BPF_JMP | BPF_JEQ | BPF_K, 3, block));
                   in[pc].k = 2;  // the append-only fd
                   return absl::OkStatus();
                 });
               },
               "append-only-kept"});
  v.push_back({"sendto_with_address",
               [] {
                 return Patched([](std::vector<BpfInsn>& in) -> absl::Status {
                   ASSIGN_OR_RETURN(size_t block, DispatchTarget(in, SYS_sendto));
                   ASSIGN_OR_RETURN(size_t ld, Find(in, BPF_LD | BPF_W | BPF_ABS, 4 * ArgLoWord(4), block));
                   BpfInsn& jeq = in[ld + 1];
                   if (jeq.code != (BPF_JMP | BPF_JEQ | BPF_K) || jeq.k != 0) return absl::NotFoundError("a4 test");
                   jeq.jf = jeq.jt;  // any destination address
                   return absl::OkStatus();
                 });
               },
               "write-family-fds"});
  v.push_back({"pwritev2_any_rwf_flags",
               [] {
                 return Patched([](std::vector<BpfInsn>& in) -> absl::Status {
                   ASSIGN_OR_RETURN(size_t block, DispatchTarget(in, SYS_pwritev2));
                   ASSIGN_OR_RETURN(size_t ld, Find(in, BPF_LD | BPF_W | BPF_ABS, 4 * ArgLoWord(5), block));
                   BpfInsn& jeq = in[ld + 1];
                   if (jeq.code != (BPF_JMP | BPF_JEQ | BPF_K) || jeq.k != 0) return absl::NotFoundError("a5 test");
                   jeq.jf = jeq.jt;  // RWF_NOAPPEND and friends
                   return absl::OkStatus();
                 });
               },
               "append-only-kept"});
  v.push_back({"ioctl_tiocsti_allowlisted",
               [] {
                 return Patched([](std::vector<BpfInsn>& in) -> absl::Status {
                   ASSIGN_OR_RETURN(size_t pc, Find(in, BPF_JMP | BPF_JEQ | BPF_K, FIONREAD));
                   in[pc].k = TIOCSTI;
                   return absl::OkStatus();
                 });
               },
               "fd-control"});
  v.push_back({"mmap_any_fd",
               [] {
                 return Patched([](std::vector<BpfInsn>& in) -> absl::Status {
                   ASSIGN_OR_RETURN(size_t block, DispatchTarget(in, SYS_mmap));
                   ASSIGN_OR_RETURN(size_t ld, Find(in, BPF_LD | BPF_W | BPF_ABS, 4 * ArgLoWord(4), block));
                   BpfInsn& jeq = in[ld + 1];
                   if (jeq.code != (BPF_JMP | BPF_JEQ | BPF_K)) return absl::NotFoundError("mmap fd test");
                   jeq.jf = jeq.jt;  // every fd
                   return absl::OkStatus();
                 });
               },
               "mmap-fds"});
  v.push_back({"clone_newuser_allowed",
               [] {
                 return Patched([](std::vector<BpfInsn>& in) -> absl::Status {
                   ASSIGN_OR_RETURN(size_t block, DispatchTarget(in, SYS_clone));
                   for (size_t pc = block; pc < in.size(); ++pc) {
                     if (in[pc].code == (BPF_ALU | BPF_AND | BPF_K) && (in[pc].k & CLONE_NEWUSER)) {
                       in[pc].k &= ~static_cast<uint32_t>(CLONE_NEWUSER);
                       return absl::OkStatus();
                     }
                   }
                   return absl::NotFoundError("clone flag mask");
                 });
               },
               "process-confined"});
  // -- Deny rules compared as 64-bit values (hi-word junk slips through).
  v.push_back({"close_denied_by_64bit_eq",
               [] { return ScmpFilter(Deny64(SCMP_SYS(close), 0, {0, 1, 2, 3}, EBADF)); },
               "never-allowed", Bad::kAllow, BaseFds(), HiJunk{SYS_close, 0, 1}});
  v.push_back({"dup2_onto_declared_denied_by_64bit_eq",
               [] { return ScmpFilter(Deny64(SCMP_SYS(dup2), 1, {0, 1, 2, 3}, EBADF)); },
               "never-allowed", Bad::kAllow, BaseFds(), HiJunk{SYS_dup2, 1, 3}});
  v.push_back({"write_to_read_fd_denied_by_64bit_eq",
               [] { return ScmpFilter(Deny64(SCMP_SYS(pwrite64), 0, {0, 2}, EBADF)); },
               "write-family-fds", Bad::kAllow, BaseFds(), HiJunk{SYS_pwrite64, 0, 2}});
  v.push_back({"ioctl_tiocsti_denied_by_64bit_eq",
               [] { return ScmpFilter(Deny64(SCMP_SYS(ioctl), 1, {TIOCSTI}, ENOTTY)); },
               "fd-control", Bad::kAllow, BaseFds(), HiJunk{SYS_ioctl, 1, TIOCSTI}});
  return v;
}

bool IsBad(Bad bad, uint32_t ret) {
  switch (bad) {
    case Bad::kAllow: return ActionOf(ret) == SeccompAction::kAllow;
    case Bad::kNotKillProcess: return ActionOf(ret) != SeccompAction::kKillProcess;
    case Bad::kNotAllow: return ActionOf(ret) != SeccompAction::kAllow;
    case Bad::kDeferred: {
      SeccompAction a = ActionOf(ret);
      return a == SeccompAction::kTrap || a == SeccompAction::kTrace ||
             a == SeccompAction::kUserNotif || a == SeccompAction::kLog ||
             a == SeccompAction::kKillThread;
    }
  }
  return false;
}

// What each property's refutation looks like (see bpf_properties.cc).
Bad BadFor(const std::string& property) {
  if (property == "foreign-arch-killed" || property == "x32-killed") return Bad::kNotKillProcess;
  if (property == "declared-fds-usable") return Bad::kNotAllow;
  if (property == "no-deferred-actions") return Bad::kDeferred;
  return Bad::kAllow;
}

// Inputs an x86_64 kernel can present to a filter: the two arches it
// reports, and for i386 32-bit arguments only.
bool Realizable(const SeccompInput& in) {
  if (in.arch() == kAuditArchX86_64) return true;
  if (in.arch() != kAuditArchI386) return false;
  for (int i = 0; i < 6; ++i) {
    if (in.w[ArgHiWord(i)] != 0) return false;
  }
  return true;
}

std::vector<WordConstraint> I386Only() {
  std::vector<WordConstraint> cs = {WordEq(1, kAuditArchI386)};
  for (int i = 0; i < 6; ++i) cs.push_back(WordEq(ArgHiWord(i), 0));
  return cs;
}

absl::StatusOr<std::vector<PropertyResult>> Check(const BpfProgram& p, const FdSets& fds) {
  ASSIGN_OR_RETURN(DecisionTable table, DecisionTable::Build(p));
  return CheckLauncherProperties(table, fds);
}

class LooseningTest : public ::testing::TestWithParam<Loosening> {};

TEST_P(LooseningTest, CaughtWithKernelConfirmedCounterexample) {
  const Loosening& l = GetParam();
  auto bytes = l.build();
  ASSERT_TRUE(bytes.ok()) << bytes.status();
  auto program = BpfProgram::Decode(*bytes);
  ASSERT_TRUE(program.ok()) << program.status();
  auto results = Check(*program, l.fds);
  ASSERT_TRUE(results.ok()) << results.status();

  std::vector<const PropertyResult*> failed;
  for (const PropertyResult& r : *results) {
    if (!r.holds) failed.push_back(&r);
  }
  ASSERT_FALSE(failed.empty()) << l.name << ": the property checker misses this loosening";
  bool expected_failed = false;
  for (const PropertyResult* r : failed) expected_failed |= r->id == l.property;
  EXPECT_TRUE(expected_failed) << "property " << l.property << " holds";
  if (l.witness_nr_arg0) {
    for (const PropertyResult* r : failed) {
      if (r->id != l.property || !r->counterexample) continue;
      EXPECT_EQ(r->counterexample->w[0], l.witness_nr_arg0->first) << r->detail;
      EXPECT_EQ(r->counterexample->w[ArgLoWord(0)], l.witness_nr_arg0->second) << r->detail;
    }
  }

  auto oracle = testing::KernelOracle::New(*program);
  const bool with_i386 = testing::HasIa32Emulation();
  ASSERT_TRUE(oracle.ok()) << oracle.status();
  auto table = DecisionTable::Build(*program);
  ASSERT_TRUE(table.ok()) << table.status();
  std::vector<SeccompInput> inputs;
  std::vector<const PropertyResult*> replayed;
  for (const PropertyResult* r : failed) {
    ASSERT_TRUE(r->counterexample.has_value()) << r->id << " failed without a counterexample";
    // The checker's own answer is the emulator's.
    EXPECT_EQ(program->Evaluate(*r->counterexample), r->counterexample_ret)
        << r->id << ": " << r->counterexample->DebugString();
    if (!Realizable(*r->counterexample)) {
      ADD_FAILURE() << r->id << ": the counterexample " << r->counterexample->DebugString()
                    << " cannot occur on an x86_64 kernel (arch is only ever AUDIT_ARCH_X86_64 "
                       "or AUDIT_ARCH_I386, and i386 arguments are 32-bit), so the kernel "
                       "cannot confirm it";
      // Whether the loosening is real all the same: a realizable input that
      // breaks the same property, replayed below.
      if (r->id == "foreign-arch-killed" && with_i386) {
        auto w = table->Find([](uint32_t ret) { return ActionOf(ret) != SeccompAction::kKillProcess; },
                             I386Only());
        ASSERT_TRUE(w.ok()) << w.status();
        ASSERT_TRUE(w->has_value()) << "no i386 input escapes the kill";
        auto k = oracle->Run({(*w)->input});
        ASSERT_TRUE(k.ok()) << k.status();
        ASSERT_TRUE((*k)[0].has_value()) << (*w)->input.DebugString();
        EXPECT_EQ(*(*k)[0], (*w)->ret) << (*w)->input.DebugString();
        EXPECT_NE(ActionOf(*(*k)[0]), SeccompAction::kKillProcess) << (*w)->input.DebugString();
      }
      continue;
    }
    if (r->counterexample->arch() == kAuditArchI386 && !with_i386) {
      // Caught by the analyzer (above); the kernel cannot replay it here.
      std::cout << r->id << ": i386 counterexample not replayed: " << testing::kNoIa32Emulation
                << "\n";
      continue;
    }
    inputs.push_back(*r->counterexample);
    replayed.push_back(r);
  }
  failed = replayed;
  auto kernel = oracle->Run(inputs);
  ASSERT_TRUE(kernel.ok()) << kernel.status();
  for (size_t i = 0; i < failed.size(); ++i) {
    const PropertyResult& r = *failed[i];
    SCOPED_TRACE(absl::StrCat(r.id, " (", r.detail, "): ", inputs[i].DebugString(), " -> ",
                              DescribeRet(r.counterexample_ret)));
    ASSERT_TRUE((*kernel)[i].has_value()) << "the kernel did not let the filter decide";
    EXPECT_EQ(*(*kernel)[i], r.counterexample_ret);
    EXPECT_TRUE(IsBad(BadFor(r.id), *(*kernel)[i])) << "not a breach of " << r.id;
    if (r.id == l.property) {
      EXPECT_TRUE(IsBad(l.bad, *(*kernel)[i]));
    }
  }

  if (l.hi_junk) {
    // Exactly the width bug: the denied value with hi-word junk is allowed
    // by the filter and the kernel, while the clean value is not.
    const HiJunk& h = *l.hi_junk;
    auto w = table->Find([](uint32_t r) { return ActionOf(r) == SeccompAction::kAllow; },
                         {WordEq(1, kAuditArchX86_64), WordEq(0, h.nr), WordEq(ArgLoWord(h.arg), h.lo),
                          WordEq(ArgHiWord(h.arg), 0, false)});
    ASSERT_TRUE(w.ok()) << w.status();
    ASSERT_TRUE(w->has_value()) << "no hi-word bypass found";
    SeccompInput clean = (*w)->input;
    clean.w[ArgHiWord(h.arg)] = 0;
    EXPECT_NE(ActionOf(program->Evaluate(clean)), SeccompAction::kAllow) << clean.DebugString();
    auto replay = oracle->Run({(*w)->input, clean});
    ASSERT_TRUE(replay.ok()) << replay.status();
    ASSERT_TRUE((*replay)[0].has_value() && (*replay)[1].has_value());
    EXPECT_EQ(*(*replay)[0], static_cast<uint32_t>(SECCOMP_RET_ALLOW)) << (*w)->input.DebugString();
    EXPECT_EQ(*(*replay)[1], program->Evaluate(clean));
  }
}

INSTANTIATE_TEST_SUITE_P(Vectors, LooseningTest, ::testing::ValuesIn(Loosenings()),
                         [](const ::testing::TestParamInfo<Loosening>& info) { return info.param.name; });

// The controls: what the vectors loosen passes every property untouched.
TEST(LooseningBaselineTest, LauncherFilterPassesEveryProperty) {
  for (OnViolation mode : {OnViolation::kErrno, OnViolation::kKill}) {
    FilterSpec spec = BaseSpec();
    spec.on_violation = mode;
    auto bytes = CompileFilter(spec);
    ASSERT_TRUE(bytes.ok()) << bytes.status();
    auto program = BpfProgram::Decode(*bytes);
    ASSERT_TRUE(program.ok()) << program.status();
    auto results = Check(*program, BaseFds());
    ASSERT_TRUE(results.ok()) << results.status();
    EXPECT_GE(results->size(), 12u);
    for (const PropertyResult& r : *results) {
      EXPECT_TRUE(r.holds) << r.id << ": " << r.detail << " "
                           << (r.counterexample ? r.counterexample->DebugString() : "");
    }
  }
}

TEST(LooseningBaselineTest, LibseccompBaselinePassesEveryProperty) {
  auto bytes = ScmpFilter(nullptr);
  ASSERT_TRUE(bytes.ok()) << bytes.status();
  auto program = BpfProgram::Decode(*bytes);
  ASSERT_TRUE(program.ok()) << program.status();
  auto results = Check(*program, BaseFds());
  ASSERT_TRUE(results.ok()) << results.status();
  for (const PropertyResult& r : *results) EXPECT_TRUE(r.holds) << r.id << ": " << r.detail;
}

TEST(LooseningBaselineTest, EnoughVectors) { EXPECT_GE(Loosenings().size(), 10u); }

}  // namespace
}  // namespace fdattest
