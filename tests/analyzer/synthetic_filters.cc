#include "tests/analyzer/synthetic_filters.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/sched.h>
#include <linux/seccomp.h>
#include <sys/syscall.h>

#include <cstdint>
#include <vector>

#include "common/bpf.h"

namespace fdattest::testing {
namespace {

// A tiny assembler with forward labels: conditional jumps name the label
// of each side; Build() resolves them to offsets.
class Asm {
 public:
  using Label = int;
  Label NewLabel() { return next_label_++; }
  void Bind(Label l) { bound_[l] = static_cast<int>(insns_.size()); }
  void Ld(int word) { Emit(BPF_LD | BPF_W | BPF_ABS, static_cast<uint32_t>(word * 4)); }
  void And(uint32_t k) { Emit(BPF_ALU | BPF_AND | BPF_K, k); }
  void Ret(uint32_t k) { Emit(BPF_RET | BPF_K, k); }
  void Jeq(uint32_t k, Label t, Label f) { Jump(BPF_JEQ, k, t, f); }
  void Jge(uint32_t k, Label t, Label f) { Jump(BPF_JGE, k, t, f); }
  void Jgt(uint32_t k, Label t, Label f) { Jump(BPF_JGT, k, t, f); }
  void Jset(uint32_t k, Label t, Label f) { Jump(BPF_JSET, k, t, f); }
  // The label of the instruction after the next jump (its false side, when
  // the chain goes on).
  Label Next() {
    Label l = NewLabel();
    bound_[l] = static_cast<int>(insns_.size()) + 1;
    return l;
  }

  std::string Build() {
    std::string out;
    for (size_t pc = 0; pc < insns_.size(); ++pc) {
      Insn& in = insns_[pc];
      if (in.t >= 0) in.insn.jt = Offset(pc, in.t);
      if (in.f >= 0) in.insn.jf = Offset(pc, in.f);
      const BpfInsn& b = in.insn;
      const uint8_t bytes[8] = {static_cast<uint8_t>(b.code),
                                static_cast<uint8_t>(b.code >> 8),
                                b.jt,
                                b.jf,
                                static_cast<uint8_t>(b.k),
                                static_cast<uint8_t>(b.k >> 8),
                                static_cast<uint8_t>(b.k >> 16),
                                static_cast<uint8_t>(b.k >> 24)};
      out.append(reinterpret_cast<const char*>(bytes), 8);
    }
    return out;
  }

 private:
  struct Insn {
    BpfInsn insn;
    Label t = -1, f = -1;
  };
  void Emit(uint16_t code, uint32_t k) { insns_.push_back({BpfInsn{code, 0, 0, k}}); }
  void Jump(uint16_t op, uint32_t k, Label t, Label f) {
    Emit(BPF_JMP | op | BPF_K, k);
    insns_.back().t = t;
    insns_.back().f = f;
  }
  uint8_t Offset(size_t pc, Label l) const {
    const int target = bound_.at(l);
    const int off = target - static_cast<int>(pc) - 1;
    if (off < 0 || off > 255) abort();  // a test filter's own bug
    return static_cast<uint8_t>(off);
  }
  std::vector<Insn> insns_;
  std::map<Label, int> bound_;
  Label next_label_ = 0;
};

constexpr uint32_t kAllow = SECCOMP_RET_ALLOW;
constexpr uint32_t kTrap = SECCOMP_RET_TRAP;
constexpr uint32_t kKill = SECCOMP_RET_KILL_PROCESS;
uint32_t Errno(int e) { return SECCOMP_RET_ERRNO | static_cast<uint32_t>(e); }

// ld arch; kill unless x86_64; ld nr; kill x32 numbers. Leaves nr in A.
void Prologue(Asm& a) {
  Asm::Label kill = a.NewLabel(), arch_ok = a.NewLabel(), native = a.NewLabel();
  a.Ld(1);
  a.Jeq(kAuditArchX86_64, arch_ok, kill);
  a.Bind(kill);
  a.Ret(kKill);
  a.Bind(arch_ok);
  a.Ld(0);
  Asm::Label x32 = a.NewLabel();
  a.Jge(kX32SyscallBit, x32, native);
  a.Bind(x32);
  a.Ret(kKill);
  a.Bind(native);
}

}  // namespace

std::string RangeDispatchTrapFilter() {
  Asm a;
  Prologue(a);
  Asm::Label allow = a.NewLabel(), trap = a.NewLabel(), eacces = a.NewLabel();
  Asm::Label lo = a.NewLabel(), hi = a.NewLabel(), fcntl = a.NewLabel();
  Asm::Label r0_4 = a.NewLabel(), r5_11 = a.NewLabel(), r12_up = a.NewLabel();
  // nr < 60: [0, 4] read write open close stat -> allow but open (2);
  // [5, 11] fstat..munmap -> allow; [12, 59] -> trap.
  a.Jge(60, hi, lo);
  a.Bind(lo);
  a.Jge(5, r5_11, r0_4);
  a.Bind(r0_4);
  a.Jeq(SYS_open, eacces, allow);
  a.Bind(r5_11);
  a.Jgt(11, r12_up, allow);
  a.Bind(r12_up);
  a.Ret(kTrap);
  // nr >= 60: exit (60), fcntl (72), openat (257), exit_group (231).
  a.Bind(hi);
  Asm::Label n1 = a.Next();
  a.Jeq(SYS_exit, allow, n1);
  Asm::Label n2 = a.Next();
  a.Jeq(SYS_exit_group, allow, n2);
  Asm::Label n3 = a.Next();
  a.Jeq(SYS_fcntl, fcntl, n3);
  a.Jeq(SYS_openat, eacces, trap);
  a.Bind(fcntl);
  a.Ld(ArgLoWord(1));
  Asm::Label n4 = a.Next();
  a.Jeq(F_GETFL, allow, n4);
  a.Jeq(F_SETFL, allow, trap);
  a.Bind(trap);
  a.Ret(kTrap);
  a.Bind(eacces);
  a.Ret(Errno(EACCES));
  a.Bind(allow);
  a.Ret(kAllow);
  return a.Build();
}

std::string CloneFlagChainFilter(int bits) {
  static constexpr uint32_t kFlags[] = {CLONE_NEWNS,
                                        CLONE_NEWCGROUP,
                                        CLONE_NEWUTS,
                                        CLONE_NEWIPC,
                                        CLONE_NEWUSER,
                                        CLONE_NEWPID,
                                        CLONE_NEWNET,
                                        CLONE_PIDFD,
                                        CLONE_PTRACE,
                                        CLONE_UNTRACED,
                                        CLONE_IO,
                                        CLONE_SYSVSEM,
                                        CLONE_PARENT,
                                        CLONE_DETACHED,
                                        CLONE_VFORK,
                                        CLONE_FS,
                                        CLONE_FILES,
                                        CLONE_VM,
                                        CLONE_SIGHAND,
                                        CLONE_THREAD,
                                        CLONE_SETTLS,
                                        CLONE_PARENT_SETTID,
                                        CLONE_CHILD_CLEARTID,
                                        CLONE_CHILD_SETTID};
  Asm a;
  Prologue(a);
  Asm::Label allow = a.NewLabel(), kill = a.NewLabel(), clone = a.NewLabel();
  Asm::Label n1 = a.Next();
  a.Jeq(SYS_clone, clone, n1);
  Asm::Label n2 = a.Next();
  a.Jeq(SYS_ptrace, kill, n2);
  Asm::Label n3 = a.Next();
  a.Jeq(SYS_reboot, kill, n3);
  a.Jeq(SYS_kexec_load, kill, allow);
  a.Bind(clone);
  for (int i = 0; i < bits; ++i) {
    // libseccomp's shape for SCMP_CMP_MASKED_EQ: reload, mask, compare.
    a.Ld(ArgLoWord(0));
    a.And(kFlags[i]);
    Asm::Label next = a.Next();
    a.Jeq(kFlags[i], kill, next);
  }
  a.Ret(kAllow);
  a.Bind(kill);
  a.Ret(kKill);
  a.Bind(allow);
  a.Ret(kAllow);
  return a.Build();
}

std::string JsetChainFilter(int bits) {
  Asm a;
  Prologue(a);
  Asm::Label allow = a.NewLabel(), eperm = a.NewLabel(), ioctl = a.NewLabel();
  a.Jeq(SYS_ioctl, ioctl, allow);
  a.Bind(ioctl);
  a.Ld(ArgLoWord(1));
  for (int i = 0; i < bits; ++i) {
    Asm::Label next = a.Next();
    a.Jset(1u << (31 - i), eperm, next);
  }
  a.Ret(kAllow);
  a.Bind(eperm);
  a.Ret(Errno(EPERM));
  a.Bind(allow);
  a.Ret(kAllow);
  return a.Build();
}

std::string FdRangesFilter() {
  Asm a;
  Prologue(a);
  Asm::Label allow = a.NewLabel(), ebadf = a.NewLabel(), eperm = a.NewLabel();
  Asm::Label read = a.NewLabel(), write = a.NewLabel(), ioctl = a.NewLabel();
  Asm::Label n1 = a.Next();
  a.Jeq(SYS_read, read, n1);
  Asm::Label n2 = a.Next();
  a.Jeq(SYS_write, write, n2);
  Asm::Label n3 = a.Next();
  a.Jeq(SYS_ioctl, ioctl, n3);
  Asm::Label n4 = a.Next();
  a.Jeq(SYS_fstat, allow, n4);
  a.Jeq(SYS_exit_group, allow, eperm);
  a.Bind(read);  // fd 0 only
  a.Ld(ArgLoWord(0));
  a.Jeq(0, allow, ebadf);
  a.Bind(write);  // fds 1 and 2, and 10 to 19
  a.Ld(ArgLoWord(0));
  Asm::Label low = a.NewLabel(), high = a.NewLabel();
  a.Jge(10, high, low);
  a.Bind(low);
  Asm::Label n5 = a.Next();
  a.Jgt(2, ebadf, n5);
  a.Jge(1, allow, ebadf);
  a.Bind(high);
  a.Jgt(19, ebadf, allow);
  a.Bind(ioctl);  // odd fds only: a bit test, not a range
  a.Ld(ArgLoWord(0));
  a.Jset(1, allow, eperm);
  a.Bind(ebadf);
  a.Ret(Errno(EBADF));
  a.Bind(eperm);
  a.Ret(Errno(EPERM));
  a.Bind(allow);
  a.Ret(kAllow);
  return a.Build();
}

std::map<std::string, std::string> SyntheticFilters() {
  return {{"synthetic-range-dispatch-trap", RangeDispatchTrapFilter()},
          {"synthetic-clone-flags-13-kill", CloneFlagChainFilter(13)},
          {"synthetic-jset-chain-32", JsetChainFilter(32)},
          {"synthetic-fd-ranges", FdRangesFilter()}};
}

}  // namespace fdattest::testing
