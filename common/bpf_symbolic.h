// Exact symbolic execution of a decoded seccomp program over the 16 input
// words. Every comparison in the supported subset is `(word & mask) OP k`, so
// each path is a conjunction of such constraints, one word at a time; a
// per-word bit-level search decides feasibility and yields witnesses. The
// result is a decision table: a partition of the input space into leaves,
// each with its return value. Work is bounded: exceeding the limits is an
// explicit ResourceExhausted ("too complex"), never a guess.
// Immutable after Build(); thread-safe to share.
#ifndef FDATTEST_COMMON_BPF_SYMBOLIC_H_
#define FDATTEST_COMMON_BPF_SYMBOLIC_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/types/span.h"
#include "common/bpf.h"

namespace fdattest {

enum class CmpOp : uint8_t { kEq, kGt, kGe, kSet };

// `((w[word] & mask) OP k) == want`; for kSet the test is `(w & mask & k) != 0`.
struct WordConstraint {
  uint8_t word = 0;
  CmpOp op = CmpOp::kEq;
  uint32_t mask = 0xffffffff;
  uint32_t k = 0;
  bool want = true;

  bool Holds(uint32_t value) const {
    bool r = false;
    switch (op) {
      case CmpOp::kEq: r = (value & mask) == k; break;
      case CmpOp::kGt: r = (value & mask) > k; break;
      case CmpOp::kGe: r = (value & mask) >= k; break;
      case CmpOp::kSet: r = (value & mask & k) != 0; break;
    }
    return r == want;
  }
  WordConstraint Negated() const {
    WordConstraint c = *this;
    c.want = !want;
    return c;
  }
  std::string ToString() const;
  bool operator==(const WordConstraint&) const = default;
};

// Convenience constructors for queries.
WordConstraint WordEq(int word, uint32_t k, bool want = true);
WordConstraint WordGe(int word, uint32_t k, bool want = true);
WordConstraint WordMaskedEq(int word, uint32_t mask, uint32_t k, bool want = true);
WordConstraint WordBitsSet(int word, uint32_t bits, bool want = true);

struct SolverLimits {
  int64_t max_nodes = 1 << 20;  // bit-search nodes per query
};

// A value of one word satisfying every constraint (all on that word), nullopt
// when none exists, ResourceExhausted when the search budget runs out.
// `hint`, when given, is tried first (a previous witness often still fits).
absl::StatusOr<std::optional<uint32_t>> SolveWord(absl::Span<const WordConstraint> constraints,
                                                  SolverLimits limits = {},
                                                  std::optional<uint32_t> hint = std::nullopt);

// An input satisfying every constraint (of `constraints` and of `more`: a
// conjunction of both); unconstrained words are 0. A constraint on a word
// outside seccomp_data is InvalidArgument.
absl::StatusOr<std::optional<SeccompInput>> SolveInput(absl::Span<const WordConstraint> constraints,
                                                       absl::Span<const WordConstraint> more,
                                                       SolverLimits limits);
inline absl::StatusOr<std::optional<SeccompInput>> SolveInput(
    absl::Span<const WordConstraint> constraints, SolverLimits limits = {}) {
  return SolveInput(constraints, {}, limits);
}

struct DecisionLeaf {
  std::vector<WordConstraint> constraints;  // conjunction, in path order
  uint32_t ret = 0;
  SeccompInput witness;  // one input that reaches this leaf
  int depth = 0;         // instructions executed on this path
  // Words the path pins to one value (`w == k` over all 32 bits): bit i of
  // pinned_mask set means w[i] == pinned.w[i] on every input of the leaf.
  uint16_t pinned_mask = 0;
  SeccompInput pinned;
  bool Matches(const SeccompInput& in) const;
};

class DecisionTable {
 public:
  struct Limits {
    size_t max_leaves = 20000;
    // Total search effort over the whole build (constraints examined by the
    // per-word searches); bounds programs whose many paths each re-solve long
    // chains of constraints.
    int64_t max_work = 50'000'000;
    SolverLimits solver;
  };
  static absl::StatusOr<DecisionTable> Build(const BpfProgram& program, Limits limits);
  static absl::StatusOr<DecisionTable> Build(const BpfProgram& program) {
    return Build(program, Limits{});
  }

  const std::vector<DecisionLeaf>& leaves() const { return leaves_; }
  // The leaf whose constraints `in` satisfies (exactly one exists).
  const DecisionLeaf* Lookup(const SeccompInput& in) const;

  struct Witness {
    SeccompInput input;
    uint32_t ret;
  };
  // An input that satisfies `extra` and reaches a leaf whose return value
  // satisfies `ret_pred`, or nullopt if there is none. A constraint in
  // `extra` on a word outside seccomp_data is InvalidArgument.
  absl::StatusOr<std::optional<Witness>> Find(absl::FunctionRef<bool(uint32_t)> ret_pred,
                                              const std::vector<WordConstraint>& extra) const;

 private:
  DecisionTable(std::vector<DecisionLeaf> leaves, SolverLimits solver);
  absl::StatusOr<std::optional<Witness>> FindIn(absl::Span<const uint32_t> candidates,
                                                absl::FunctionRef<bool(uint32_t)> ret_pred,
                                                const std::vector<WordConstraint>& extra) const;

  std::vector<DecisionLeaf> leaves_;
  SolverLimits solver_;
  // Leaf indexes by the syscall number they pin, and those pinning none: a
  // query about one syscall looks only at those two lists.
  // Orders leaf indexes by the syscall number the leaf pins, then by index
  // (a syscall's leaves stay in path order); compares them with a number.
  struct Syscall {
    uint32_t nr;
  };
  struct PinnedNrLess {
    const DecisionTable* t;
    uint32_t Nr(uint32_t index) const { return t->leaves_[index].pinned.w[0]; }
    bool operator()(uint32_t a, uint32_t b) const {
      return Nr(a) != Nr(b) ? Nr(a) < Nr(b) : a < b;
    }
    bool operator()(uint32_t a, Syscall b) const { return Nr(a) < b.nr; }
    bool operator()(Syscall a, uint32_t b) const { return a.nr < Nr(b); }
  };
  std::vector<uint32_t> by_nr_;  // leaves pinning the syscall number, by it
  std::vector<uint32_t> unpinned_;
  std::vector<uint32_t> all_;
};

}  // namespace fdattest

#endif  // FDATTEST_COMMON_BPF_SYMBOLIC_H_
