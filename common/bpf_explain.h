// A readable account of what a seccomp program does, derived from its decision
// table (`fdattest bpf explain`, docs/verifier-cli.md): a summary first (per
// declared fd, what the filter allows on it; what other fds, foreign
// architectures, x32 and unnamed syscall numbers get), then each syscall's
// rules with merged, non-redundant conditions, then the terms used. Every
// statement is derived from the decision table, so it holds for every input.
// Stateless; thread-safe.
#ifndef FDATTEST_COMMON_BPF_EXPLAIN_H_
#define FDATTEST_COMMON_BPF_EXPLAIN_H_

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "common/bpf_symbolic.h"
#include "common/json.h"

namespace fdattest {

// What the caller knows about the launch the filter came from (a manifest or
// a profile); empty for a filter on its own.
struct ExplainContext {
  struct DeclaredFd {
    int fd = -1;
    std::string role;    // e.g. "phi-output"
    std::string access;  // "r", "w", "rw", "a"
  };
  std::vector<DeclaredFd> fds;
  int exec_fd = -1;  // the launcher's execveat descriptor; -1: unknown or none
};

// A condition on one 32-bit word: the value is in `in` when that is not
// empty, otherwise every constraint of `cs` holds.
struct WordCond {
  std::set<uint32_t> in;
  std::vector<WordConstraint> cs;
  bool Holds(uint32_t value) const;
  bool operator==(const WordCond&) const = default;
};
// All of its word conditions hold; keyed by word (2.. of seccomp_data).
using Conjunction = std::map<uint8_t, WordCond>;
bool Holds(const Conjunction& c, const SeccompInput& in);

struct ExplainedRule {
  // Any of these holds (each a conjunction). Empty: the rule applies to
  // every input the earlier rules leave ("otherwise", or "always" when it is
  // the only rule).
  std::vector<Conjunction> when;
  uint32_t ret = 0;
};

struct ExplainedSyscall {
  uint32_t nr = 0;
  std::string name;
  std::vector<ExplainedRule> rules;  // the first rule that holds applies
  std::set<uint32_t> rets;
  // The returns as a function of the rules: the first rule whose `when`
  // holds, else the last rule's.
  uint32_t RetFor(const SeccompInput& in) const;
};

// The fd argument of one fd-taking syscall that can be allowed.
struct ExplainedFdArg {
  uint32_t nr = 0;
  int arg = 0;
  bool examined = false;  // some rule for the syscall tests this argument
  // When examined and exact: the low-32-bit values that can be allowed, as
  // inclusive ranges. Not exact when the rules test single bits or masks of
  // it (then see the syscall's rules).
  std::vector<std::pair<uint32_t, uint32_t>> allowed;
  bool exact = false;
};

struct DeclaredFdUse {
  ExplainContext::DeclaredFd fd;
  std::vector<std::string> allowed;   // syscalls allowed on it
  std::vector<std::string> absorbed;  // answered 0 without effect (ERRNO 0)
};

struct Explanation {
  size_t instructions = 0;
  std::string sha256;
  size_t paths = 0;
  ExplainContext context;
  std::set<uint32_t> foreign_arch_rets;  // arch != x86_64
  std::set<uint32_t> x32_rets;           // x86_64 with nr in 0x40000000..0xfffffffe
  // x86_64 numbers below 0x40000000 with no name in the syscall table and
  // not tested by the filter, with one example number for each return.
  std::map<uint32_t, uint32_t> default_rets;
  std::vector<ExplainedSyscall> syscalls;  // every named or tested number
  std::vector<ExplainedFdArg> fd_args;     // fd-taking syscalls that can be allowed
  std::vector<DeclaredFdUse> declared;     // one per context fd, ascending
  // Other fds: example calls allowed on an fd that is neither declared nor
  // the exec fd (empty: none), e.g. "read(7, …)".
  std::vector<std::string> undeclared_allowed;
  int read_path_insns = -1;   // instructions for read() on the first readable fd
  int write_path_insns = -1;  // instructions for write() on the first writable fd

  bool ExaminesFds() const;
  Json ToJson() const;
  std::string ToText() const;  // common/bpf_explain_text.cc
};

absl::StatusOr<Explanation> Explain(const BpfProgram& program, const DecisionTable& table,
                                    const ExplainContext& context = {});

}  // namespace fdattest

#endif  // FDATTEST_COMMON_BPF_EXPLAIN_H_
