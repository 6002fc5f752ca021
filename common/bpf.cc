#include "common/bpf.h"

#include <linux/filter.h>
#include <linux/seccomp.h>

#include <array>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace fdattest {
namespace {

constexpr size_t kInsnBytes = 8;
constexpr uint32_t kSeccompDataBytes = 64;

// Every opcode bpf_check_classic() knows (net/core/filter.c, codes[]): a
// table indexed by opcode (all of them are below 0x100), built at compile
// time, so a launch's check needs no allocation.
constexpr std::array<bool, 0x100> kKernelOpcodes = [] {
  std::array<bool, 0x100> t{};
  for (uint16_t op : {BPF_ADD, BPF_SUB, BPF_MUL, BPF_DIV, BPF_MOD, BPF_AND, BPF_OR, BPF_XOR,
                      BPF_LSH, BPF_RSH}) {
    t[BPF_ALU | op | BPF_K] = true;
    t[BPF_ALU | op | BPF_X] = true;
  }
  t[BPF_ALU | BPF_NEG] = true;
  for (uint16_t sz : {BPF_W, BPF_H, BPF_B}) {
    t[BPF_LD | sz | BPF_ABS] = true;
    t[BPF_LD | sz | BPF_IND] = true;
  }
  for (uint16_t c : {BPF_LD | BPF_W | BPF_LEN, BPF_LD | BPF_IMM, BPF_LD | BPF_MEM,
                     BPF_LDX | BPF_W | BPF_LEN, BPF_LDX | BPF_B | BPF_MSH, BPF_LDX | BPF_IMM,
                     BPF_LDX | BPF_MEM, BPF_ST, BPF_STX, BPF_MISC | BPF_TAX, BPF_MISC | BPF_TXA,
                     BPF_RET | BPF_K, BPF_RET | BPF_A, BPF_JMP | BPF_JA}) {
    t[c] = true;
  }
  for (uint16_t op : {BPF_JEQ, BPF_JGT, BPF_JGE, BPF_JSET}) {
    t[BPF_JMP | op | BPF_K] = true;
    t[BPF_JMP | op | BPF_X] = true;
  }
  return t;
}();

bool IsKernelOpcode(uint16_t code) { return code < kKernelOpcodes.size() && kKernelOpcodes[code]; }

bool IsConditionalJump(uint16_t code) {
  return BPF_CLASS(code) == BPF_JMP && BPF_OP(code) != BPF_JA;
}

// The codes seccomp_check_filter() lets through (kernel/seccomp.c).
bool SeccompAllows(const BpfInsn& in) {
  switch (in.code) {
    case BPF_LD | BPF_W | BPF_ABS:
    case BPF_LD | BPF_W | BPF_LEN:
    case BPF_LDX | BPF_W | BPF_LEN:
      return true;
    default:
      break;
  }
  // Every ALU operation except modulo (seccomp_check_filter has no case for
  // BPF_MOD), every jump, every return.
  if (BPF_CLASS(in.code) == BPF_ALU) return BPF_OP(in.code) != BPF_MOD;
  if (BPF_CLASS(in.code) == BPF_JMP || BPF_CLASS(in.code) == BPF_RET) return true;
  switch (in.code) {
    case BPF_LD | BPF_IMM:
    case BPF_LDX | BPF_IMM:
    case BPF_MISC | BPF_TAX:
    case BPF_MISC | BPF_TXA:
    case BPF_LD | BPF_MEM:
    case BPF_LDX | BPF_MEM:
    case BPF_ST:
    case BPF_STX:
      return true;
    default:
      return false;
  }
}

absl::Status InsnError(size_t pc, const BpfInsn& in, absl::string_view why) {
  return absl::InvalidArgumentError(
      absl::StrCat("instruction ", pc, " (", Disassemble(in, pc), "): ", why));
}

// The strict subset libseccomp emits and the analyzer proves things about.
absl::Status CheckSubset(const std::vector<BpfInsn>& insns) {
  for (size_t pc = 0; pc < insns.size(); ++pc) {
    const BpfInsn& in = insns[pc];
    switch (in.code) {
      case BPF_LD | BPF_W | BPF_ABS:
        if (in.k == 8 || in.k == 12) {
          return InsnError(pc, in, "loads instruction_pointer, which a caller controls");
        }
        break;
      case BPF_ALU | BPF_AND | BPF_K:
      case BPF_JMP | BPF_JA:
      case BPF_JMP | BPF_JEQ | BPF_K:
      case BPF_JMP | BPF_JGT | BPF_K:
      case BPF_JMP | BPF_JGE | BPF_K:
      case BPF_JMP | BPF_JSET | BPF_K:
        break;
      case BPF_RET | BPF_K:
        if (!IsKnownAction(in.k)) return InsnError(pc, in, "unknown return action");
        if (ActionOf(in.k) == SeccompAction::kErrno && (in.k & SECCOMP_RET_DATA) > 4095) {
          return InsnError(pc, in, "ERRNO data above 4095 (the kernel would cap it)");
        }
        break;
      case BPF_RET | BPF_A:
        return InsnError(pc, in, "returns the accumulator (ret a): action not fixed by the program");
      default:
        if (in.code == (BPF_LD | BPF_MEM) || in.code == (BPF_LDX | BPF_MEM) ||
            in.code == BPF_ST || in.code == BPF_STX) {
          return InsnError(pc, in, "uses scratch memory, outside the supported subset");
        }
        if (BPF_CLASS(in.code) == BPF_LDX || in.code == (BPF_MISC | BPF_TAX) ||
            in.code == (BPF_MISC | BPF_TXA) || BPF_SRC(in.code) == BPF_X) {
          return InsnError(pc, in, "uses the X register, outside the supported subset");
        }
        return InsnError(pc, in, "opcode outside the supported subset");
    }
  }
  return absl::OkStatus();
}

}  // namespace

std::string WordName(int word) {
  if (word == 0) return "nr";
  if (word == 1) return "arch";
  if (word == 2) return "ip.lo32";
  if (word == 3) return "ip.hi32";
  int arg = (word - 4) / 2;
  return absl::StrCat("a", arg, word % 2 == 0 ? ".lo32" : ".hi32");
}

std::string SeccompInput::DebugString() const {
  std::string s = absl::StrFormat("nr=%d arch=0x%08x", static_cast<int32_t>(nr()), arch());
  for (int i = 0; i < 6; ++i) absl::StrAppendFormat(&s, " a%d=0x%x", i, arg(i));
  return s;
}

SeccompAction ActionOf(uint32_t ret) {
  switch (ret & SECCOMP_RET_ACTION_FULL) {
    case SECCOMP_RET_KILL_PROCESS: return SeccompAction::kKillProcess;
    case SECCOMP_RET_KILL_THREAD: return SeccompAction::kKillThread;
    case SECCOMP_RET_TRAP: return SeccompAction::kTrap;
    case SECCOMP_RET_ERRNO: return SeccompAction::kErrno;
    case SECCOMP_RET_USER_NOTIF: return SeccompAction::kUserNotif;
    case SECCOMP_RET_TRACE: return SeccompAction::kTrace;
    case SECCOMP_RET_LOG: return SeccompAction::kLog;
    case SECCOMP_RET_ALLOW: return SeccompAction::kAllow;
    default: return SeccompAction::kKillProcess;  // the kernel kills on unknown actions
  }
}

bool IsKnownAction(uint32_t ret) {
  switch (ret & SECCOMP_RET_ACTION_FULL) {
    case SECCOMP_RET_KILL_PROCESS:
    case SECCOMP_RET_KILL_THREAD:
    case SECCOMP_RET_TRAP:
    case SECCOMP_RET_ERRNO:
    case SECCOMP_RET_USER_NOTIF:
    case SECCOMP_RET_TRACE:
    case SECCOMP_RET_LOG:
    case SECCOMP_RET_ALLOW:
      return true;
    default:
      return false;
  }
}

std::string DescribeRet(uint32_t ret) {
  uint32_t data = ret & SECCOMP_RET_DATA;
  if (!IsKnownAction(ret)) return absl::StrFormat("UNKNOWN(0x%08x)", ret);
  switch (ActionOf(ret)) {
    case SeccompAction::kKillProcess: return "KILL_PROCESS";
    case SeccompAction::kKillThread: return "KILL_THREAD";
    case SeccompAction::kTrap: return absl::StrCat("TRAP(", data, ")");
    case SeccompAction::kErrno: return absl::StrCat("ERRNO(", data, ")");
    case SeccompAction::kUserNotif: return "USER_NOTIF";
    case SeccompAction::kTrace: return absl::StrCat("TRACE(", data, ")");
    case SeccompAction::kLog: return "LOG";
    case SeccompAction::kAllow: return "ALLOW";
  }
  return "?";
}

std::string Disassemble(const BpfInsn& in, size_t pc) {
  auto target = [&](uint32_t off) { return pc + 1 + off; };
  switch (in.code) {
    case BPF_LD | BPF_W | BPF_ABS:
      return in.k < 64 && in.k % 4 == 0 ? absl::StrCat("ld ", WordName(static_cast<int>(in.k / 4)))
                                        : absl::StrFormat("ld [%u]", in.k);
    case BPF_ALU | BPF_AND | BPF_K: return absl::StrFormat("and 0x%x", in.k);
    case BPF_JMP | BPF_JA: return absl::StrCat("ja ", target(in.k));
    case BPF_JMP | BPF_JEQ | BPF_K:
      return absl::StrFormat("jeq 0x%x, %d, %d", in.k, target(in.jt), target(in.jf));
    case BPF_JMP | BPF_JGT | BPF_K:
      return absl::StrFormat("jgt 0x%x, %d, %d", in.k, target(in.jt), target(in.jf));
    case BPF_JMP | BPF_JGE | BPF_K:
      return absl::StrFormat("jge 0x%x, %d, %d", in.k, target(in.jt), target(in.jf));
    case BPF_JMP | BPF_JSET | BPF_K:
      return absl::StrFormat("jset 0x%x, %d, %d", in.k, target(in.jt), target(in.jf));
    case BPF_RET | BPF_K: return absl::StrCat("ret ", DescribeRet(in.k));
    case BPF_RET | BPF_A: return "ret a";
    default:
      return absl::StrFormat("code=0x%04x jt=%u jf=%u k=0x%x", in.code, in.jt, in.jf, in.k);
  }
}

absl::StatusOr<std::vector<BpfInsn>> BpfProgram::ParseInsns(absl::string_view bytes) {
  if (bytes.empty() || bytes.size() % kInsnBytes != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("filter is ", bytes.size(), " bytes: not a whole number of 8-byte instructions"));
  }
  std::vector<BpfInsn> insns(bytes.size() / kInsnBytes);
  const auto* p = reinterpret_cast<const uint8_t*>(bytes.data());
  for (size_t i = 0; i < insns.size(); ++i, p += kInsnBytes) {
    insns[i].code = static_cast<uint16_t>(p[0] | (p[1] << 8));
    insns[i].jt = p[2];
    insns[i].jf = p[3];
    insns[i].k = uint32_t{p[4]} | (uint32_t{p[5]} << 8) | (uint32_t{p[6]} << 16) |
                 (uint32_t{p[7]} << 24);
  }
  return insns;
}

absl::Status BpfProgram::CheckKernelAcceptance(const std::vector<BpfInsn>& insns) {
  const size_t len = insns.size();
  if (len == 0 || len > BPF_MAXINSNS) {
    return absl::InvalidArgumentError(absl::StrCat("filter has ", len, " instructions; 1..", BPF_MAXINSNS, " allowed"));
  }
  for (size_t pc = 0; pc < len; ++pc) {
    const BpfInsn& in = insns[pc];
    if (!IsKernelOpcode(in.code)) return InsnError(pc, in, "invalid opcode");
    switch (in.code) {
      case BPF_ALU | BPF_DIV | BPF_K:
      case BPF_ALU | BPF_MOD | BPF_K:
        if (in.k == 0) return InsnError(pc, in, "division by constant zero");
        break;
      case BPF_ALU | BPF_LSH | BPF_K:
      case BPF_ALU | BPF_RSH | BPF_K:
        if (in.k >= 32) return InsnError(pc, in, "shift by 32 or more");
        break;
      case BPF_LD | BPF_MEM:
      case BPF_LDX | BPF_MEM:
      case BPF_ST:
      case BPF_STX:
        if (in.k >= BPF_MEMWORDS) return InsnError(pc, in, "scratch memory index out of range");
        break;
      case BPF_JMP | BPF_JA:
        if (in.k >= len - pc - 1) return InsnError(pc, in, "jump target out of range");
        break;
      default:
        if (IsConditionalJump(in.code) && (pc + in.jt + 1 >= len || pc + in.jf + 1 >= len)) {
          return InsnError(pc, in, "jump target out of range");
        }
    }
  }
  if (BPF_CLASS(insns[len - 1].code) != BPF_RET) {
    return InsnError(len - 1, insns[len - 1], "the last instruction is not a return");
  }
  // check_load_and_stores(): scratch memory must be written before it is read
  // on every path.
  std::vector<uint16_t> masks(len, 0xffff);
  uint16_t memvalid = 0;
  for (size_t pc = 0; pc < len; ++pc) {
    const BpfInsn& in = insns[pc];
    memvalid &= masks[pc];
    if (in.code == BPF_ST || in.code == BPF_STX) {
      memvalid |= static_cast<uint16_t>(1u << in.k);
    } else if (in.code == (BPF_LD | BPF_MEM) || in.code == (BPF_LDX | BPF_MEM)) {
      if (!(memvalid & (1u << in.k))) return InsnError(pc, in, "reads scratch memory never written");
    } else if (in.code == (BPF_JMP | BPF_JA)) {
      masks[pc + 1 + in.k] &= memvalid;
      memvalid = 0xffff;
    } else if (IsConditionalJump(in.code)) {
      masks[pc + 1 + in.jt] &= memvalid;
      masks[pc + 1 + in.jf] &= memvalid;
      memvalid = 0xffff;
    }
  }
  // seccomp_check_filter().
  for (size_t pc = 0; pc < len; ++pc) {
    const BpfInsn& in = insns[pc];
    if (!SeccompAllows(in)) return InsnError(pc, in, "opcode not allowed in seccomp filters");
    if (in.code == (BPF_LD | BPF_W | BPF_ABS) && (in.k >= kSeccompDataBytes || (in.k & 3) != 0)) {
      return InsnError(pc, in, "load outside seccomp_data or not 32-bit aligned");
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<BpfProgram> BpfProgram::Decode(absl::string_view bytes) {
  ASSIGN_OR_RETURN(std::vector<BpfInsn> insns, ParseInsns(bytes));
  RETURN_IF_ERROR(CheckKernelAcceptance(insns));
  RETURN_IF_ERROR(CheckSubset(insns));
  return BpfProgram(std::move(insns));
}

std::string BpfProgram::Encode() const {
  std::string out;
  out.reserve(insns_.size() * kInsnBytes);
  for (const BpfInsn& in : insns_) {
    out.push_back(static_cast<char>(in.code & 0xff));
    out.push_back(static_cast<char>(in.code >> 8));
    out.push_back(static_cast<char>(in.jt));
    out.push_back(static_cast<char>(in.jf));
    for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((in.k >> (8 * i)) & 0xff));
  }
  return out;
}

uint32_t BpfProgram::Evaluate(const SeccompInput& input, int* steps) const {
  uint32_t a = 0;
  size_t pc = 0;
  int n = 0;
  for (;;) {
    const BpfInsn& in = insns_[pc];
    ++n;
    switch (in.code) {
      case BPF_LD | BPF_W | BPF_ABS:
        a = input.w[in.k / 4];
        ++pc;
        break;
      case BPF_ALU | BPF_AND | BPF_K:
        a &= in.k;
        ++pc;
        break;
      case BPF_JMP | BPF_JA:
        pc += 1 + in.k;
        break;
      case BPF_JMP | BPF_JEQ | BPF_K:
        pc += 1 + (a == in.k ? in.jt : in.jf);
        break;
      case BPF_JMP | BPF_JGT | BPF_K:
        pc += 1 + (a > in.k ? in.jt : in.jf);
        break;
      case BPF_JMP | BPF_JGE | BPF_K:
        pc += 1 + (a >= in.k ? in.jt : in.jf);
        break;
      case BPF_JMP | BPF_JSET | BPF_K:
        pc += 1 + ((a & in.k) != 0 ? in.jt : in.jf);
        break;
      default:  // BPF_RET | BPF_K: the only other code Decode() admits
        if (steps != nullptr) *steps = n;
        return in.k;
    }
  }
}

}  // namespace fdattest
