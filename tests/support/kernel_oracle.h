// The live kernel as an oracle for seccomp programs, safely: every distinct
// return value of the program is rewritten to SECCOMP_RET_ERRNO(i + 1), so no
// input ever executes a syscall or kills anyone. The rewritten program is
// installed in a forked child, which issues each input's syscall — x86_64
// inputs with the `syscall` instruction, i386 inputs with `int $0x80` — and
// records -errno in shared memory; the errno maps back to the original
// return value. Not thread-safe; each Run() forks one child.
#ifndef FDATTEST_TESTS_SUPPORT_KERNEL_ORACLE_H_
#define FDATTEST_TESTS_SUPPORT_KERNEL_ORACLE_H_

#include <cstdint>
#include <optional>
#include <vector>

#include "common/bpf.h"

namespace fdattest::testing {

class KernelOracle {
 public:
  // Fails if the program has more than 3071 distinct return values.
  static absl::StatusOr<KernelOracle> New(const BpfProgram& program);

  // Inputs must have arch x86_64 or i386; i386 inputs carry 32-bit
  // arguments only (hi words 0), as int $0x80 passes them. The
  // instruction_pointer words are ignored (the subset never loads them).
  // An entry is nullopt when the kernel did not let the filter decide that
  // input — it stopped the process or answered by itself — confirmed by the
  // same outcome under a filter that answers ERRNO to everything (some
  // kernels handle reserved syscall numbers before seccomp).
  absl::StatusOr<std::vector<std::optional<uint32_t>>> Run(
      const std::vector<SeccompInput>& inputs) const;

  const std::string& rewritten_bpf() const { return rewritten_; }

 private:
  KernelOracle(std::string rewritten, std::vector<uint32_t> rets)
      : rewritten_(std::move(rewritten)), rets_(std::move(rets)) {}
  std::string rewritten_;       // wire bytes with every ret k replaced
  std::vector<uint32_t> rets_;  // errno i + 1 <-> original rets_[i]
};

}  // namespace fdattest::testing

#endif  // FDATTEST_TESTS_SUPPORT_KERNEL_ORACLE_H_
