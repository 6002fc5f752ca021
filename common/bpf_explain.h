// A readable account of what a seccomp program does, derived from its decision
// table (`fdattest bpf explain`): arch handling, the default action, per-syscall
// rules with conditions in 64-bit form, the fd sets each fd-taking syscall
// accepts (proven for every input, or flagged), and hot-path costs.
// Stateless; thread-safe.
#ifndef FDATTEST_COMMON_BPF_EXPLAIN_H_
#define FDATTEST_COMMON_BPF_EXPLAIN_H_

#include <set>
#include <string>
#include <vector>

#include "common/bpf_symbolic.h"
#include "common/json.h"

namespace fdattest {

struct ExplainedRule {
  std::vector<std::string> conditions;  // all must hold; empty: always
  uint32_t ret = 0;
};

struct ExplainedSyscall {
  uint32_t nr = 0;
  std::string name;
  std::vector<ExplainedRule> rules;  // one rule with no conditions: unconditional
};

struct ExplainedFdSet {
  std::string syscall;
  int fd_arg = 0;
  std::set<uint32_t> fds;  // lo32 values allowed (hi word 0, other args 0)
  bool proven = false;     // ALLOW implies lo32(fd) in `fds`, for every input
  std::string note;
};

struct Explanation {
  size_t instructions = 0;
  std::string sha256;
  size_t paths = 0;
  std::set<uint32_t> foreign_arch_rets;  // outcomes for arch != x86_64
  std::set<uint32_t> x32_rets;           // x86_64 with nr in 0x40000000..0xfffffffe
  std::set<uint32_t> default_rets;       // x86_64 syscall numbers the program never names
  std::vector<ExplainedSyscall> syscalls;
  std::vector<ExplainedFdSet> fd_sets;
  int read_path_insns = -1;   // instructions for read() on the first readable fd
  int write_path_insns = -1;  // instructions for write() on the first writable fd

  Json ToJson() const;
  std::string ToText() const;
};

absl::StatusOr<Explanation> Explain(const BpfProgram& program, const DecisionTable& table);

}  // namespace fdattest

#endif  // FDATTEST_COMMON_BPF_EXPLAIN_H_
