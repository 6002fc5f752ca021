// Seccomp classic-BPF programs: decoding from the wire bytes, the kernel's
// acceptance checks (bpf_check_classic + seccomp_check_filter), the strict
// subset fdattest proves things about, and a concrete evaluator. Format:
// docs/formats/bpf.md. Immutable after Decode(); thread-safe to share.
#ifndef FDATTEST_COMMON_BPF_H_
#define FDATTEST_COMMON_BPF_H_

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "common/status.h"

namespace fdattest {

inline constexpr uint32_t kAuditArchX86_64 = 0xc000003e;
inline constexpr uint32_t kAuditArchI386 = 0x40000003;
inline constexpr uint32_t kX32SyscallBit = 0x40000000;

struct BpfInsn {
  uint16_t code = 0;
  uint8_t jt = 0;
  uint8_t jf = 0;
  uint32_t k = 0;
};

// The 16 32-bit words of struct seccomp_data as the filter sees them:
// 0 nr, 1 arch, 2-3 instruction_pointer lo/hi, 4+2i / 5+2i args[i] lo/hi.
inline constexpr int kSeccompWords = 16;
struct SeccompInput {
  std::array<uint32_t, kSeccompWords> w{};

  uint32_t nr() const { return w[0]; }
  uint32_t arch() const { return w[1]; }
  uint64_t arg(int i) const { return (uint64_t{w[5 + 2 * i]} << 32) | w[4 + 2 * i]; }
  void set_arg(int i, uint64_t v) {
    w[4 + 2 * i] = static_cast<uint32_t>(v);
    w[5 + 2 * i] = static_cast<uint32_t>(v >> 32);
  }
  std::string DebugString() const;
};
inline int ArgLoWord(int i) { return 4 + 2 * i; }
inline int ArgHiWord(int i) { return 5 + 2 * i; }
std::string WordName(int word);  // "nr", "arch", "ip.lo32", "a0.lo32", ...

// Return values (SECCOMP_RET_*), classified by the action's high 16 bits.
enum class SeccompAction { kKillProcess, kKillThread, kTrap, kErrno, kUserNotif, kTrace, kLog, kAllow };
SeccompAction ActionOf(uint32_t ret);
bool IsKnownAction(uint32_t ret);
std::string DescribeRet(uint32_t ret);  // "ALLOW", "ERRNO(9)", "KILL_PROCESS", ...

class BpfProgram {
 public:
  // Parses little-endian sock_filter bytes, applies the kernel's checks and
  // then the strict subset. Errors name the instruction index and the reason.
  static absl::StatusOr<BpfProgram> Decode(absl::string_view bytes);
  // Only the kernel's checks (what seccomp() would accept), for comparison.
  static absl::Status CheckKernelAcceptance(const std::vector<BpfInsn>& insns);
  static absl::StatusOr<std::vector<BpfInsn>> ParseInsns(absl::string_view bytes);

  const std::vector<BpfInsn>& insns() const { return insns_; }
  std::string Encode() const;

  // The return value for one input. `steps`, if given, receives the number of
  // instructions executed.
  uint32_t Evaluate(const SeccompInput& in, int* steps = nullptr) const;

 private:
  explicit BpfProgram(std::vector<BpfInsn> insns) : insns_(std::move(insns)) {}
  std::vector<BpfInsn> insns_;
};

std::string Disassemble(const BpfInsn& insn, size_t pc);

}  // namespace fdattest

#endif  // FDATTEST_COMMON_BPF_H_
