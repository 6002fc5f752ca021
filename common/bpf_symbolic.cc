#include "common/bpf_symbolic.h"

#include <linux/filter.h>

#include <algorithm>
#include <array>
#include <unordered_set>

#include "absl/container/inlined_vector.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace fdattest {

std::string WordConstraint::ToString() const {
  std::string lhs = WordName(word);
  if (op != CmpOp::kSet && mask != 0xffffffff) lhs = absl::StrFormat("(%s & 0x%x)", lhs, mask);
  switch (op) {
    case CmpOp::kEq: return absl::StrFormat("%s %s 0x%x", lhs, want ? "==" : "!=", k);
    case CmpOp::kGt: return absl::StrFormat("%s %s 0x%x", lhs, want ? ">" : "<=", k);
    case CmpOp::kGe: return absl::StrFormat("%s %s 0x%x", lhs, want ? ">=" : "<", k);
    case CmpOp::kSet:
      return absl::StrFormat("(%s & 0x%x) %s 0", lhs, mask & k, want ? "!=" : "==");
  }
  return "?";
}

WordConstraint WordEq(int word, uint32_t k, bool want) {
  return {static_cast<uint8_t>(word), CmpOp::kEq, 0xffffffff, k, want};
}
WordConstraint WordGe(int word, uint32_t k, bool want) {
  return {static_cast<uint8_t>(word), CmpOp::kGe, 0xffffffff, k, want};
}
WordConstraint WordMaskedEq(int word, uint32_t mask, uint32_t k, bool want) {
  return {static_cast<uint8_t>(word), CmpOp::kEq, mask, k, want};
}
WordConstraint WordBitsSet(int word, uint32_t bits, bool want) {
  return {static_cast<uint8_t>(word), CmpOp::kSet, 0xffffffff, bits, want};
}

namespace {

// Bit-level search for one word, most significant bit first. Each constraint
// is undecided while the value's prefix equals k's prefix (comparisons) or no
// tested bit is set yet (kSet); it is decided as soon as its outcome is fixed
// — by a differing bit, or by reaching its mask's lowest bit, when nothing
// below can change it — and pruned at once if decided the wrong way. A
// constraint decided the right way no longer matters (kDone), so the memoised
// failures are keyed by (bit, which constraints are still open): a chain of n
// single-bit or masked tests then costs O(n) nodes, not 2^n (a `!=` on one
// bit used to stay open to the end, and each of its two values made a
// different key). The memo keeps the search polynomial for the other shapes
// filters produce (chains of != on one word).
class WordSolver {
 public:
  WordSolver(std::vector<WordConstraint> cs, int64_t max_nodes)
      : cs_(std::move(cs)), st_(cs_.size(), 0), max_nodes_(max_nodes) {}

  absl::StatusOr<std::optional<uint32_t>> Solve() {
    uint32_t out = 0;
    if (Dfs(31, 0, &out)) return out;
    if (exhausted_) {
      return absl::ResourceExhaustedError(
          absl::StrCat("constraint search exceeded ", max_nodes_, " nodes: filter too complex"));
    }
    return std::nullopt;
  }

 private:
  // kSet uses kOpen / kLess (= a tested bit is set). kDone: decided, and
  // satisfied.
  enum : uint8_t { kOpen = 0, kLess = 1, kGreater = 2, kDone = 3 };

  // Whether `c`, in state `s` after the value's bit `bit` was chosen, is
  // decided the wrong way. An open constraint whose mask has no bit below
  // `bit` is decided too: its outcome is the final one.
  bool Violated(const WordConstraint& c, uint8_t s, int bit) const {
    if (s == kOpen) {
      const bool settled = bit == 0 || (c.mask & ((1u << bit) - 1)) == 0;
      return settled && !FinalOk(c);
    }
    switch (c.op) {
      case CmpOp::kEq: return c.want;
      case CmpOp::kGt:
      case CmpOp::kGe: return c.want ? s == kLess : s == kGreater;
      case CmpOp::kSet: return !c.want;
    }
    return false;
  }

  bool FinalOk(const WordConstraint& c) const {  // state kOpen at the end
    switch (c.op) {
      case CmpOp::kEq: return c.want;   // equal
      case CmpOp::kGt: return !c.want;  // equal is not greater
      case CmpOp::kGe: return c.want;   // equal is >=
      case CmpOp::kSet: return !c.want;
    }
    return false;
  }

  bool Dfs(int bit, uint32_t value, uint32_t* out) {
    if (++nodes_ > max_nodes_) {
      exhausted_ = true;
      return false;
    }
    if (bit < 0) {
      // Every constraint is settled by bit 0 (Violated), so all are done.
      for (size_t i = 0; i < cs_.size(); ++i) {
        if (st_[i] != kDone) return false;
      }
      *out = value;
      return true;
    }
    std::string key(1, static_cast<char>(bit));
    key.append(st_.begin(), st_.end());
    if (failed_.contains(key)) return false;
    bool relevant = false;
    for (size_t i = 0; i < cs_.size() && !relevant; ++i) {
      relevant = st_[i] == kOpen && ((cs_[i].mask >> bit) & 1);
    }
    const std::vector<uint8_t> saved = st_;
    // Larger values first: they tend to survive the != chains that follow.
    for (int vi = relevant ? 1 : 0; vi >= 0; --vi) {
      const uint32_t v = static_cast<uint32_t>(vi);
      bool violated = false;
      for (size_t i = 0; i < cs_.size() && !violated; ++i) {
        if (saved[i] != kOpen) continue;
        const WordConstraint& c = cs_[i];
        uint32_t vb = ((c.mask >> bit) & 1) ? v : 0;
        if (c.op == CmpOp::kSet) {
          if (vb) st_[i] = kLess;
        } else {
          uint32_t kb = (c.k >> bit) & 1;
          if (vb < kb) st_[i] = kLess;
          if (vb > kb) st_[i] = kGreater;
          // Settled with the prefixes equal: the masked value's bits below
          // are all 0, so it is less than k exactly when k has a bit there.
          const uint32_t below = bit == 0 ? 0 : (1u << bit) - 1;
          if (st_[i] == kOpen && (c.mask & below) == 0 && (c.k & below) != 0) st_[i] = kLess;
        }
        violated = Violated(c, st_[i], bit);
        // Decided the right way (or settled open the right way): done.
        if (!violated && (st_[i] != kOpen || bit == 0 || (c.mask & ((1u << bit) - 1)) == 0)) {
          st_[i] = kDone;
        }
      }
      if (!violated && Dfs(bit - 1, value | (v << bit), out)) return true;
      st_ = saved;
      if (exhausted_) return false;
    }
    failed_.insert(std::move(key));
    return false;
  }

  std::vector<WordConstraint> cs_;
  std::vector<uint8_t> st_;
  int64_t max_nodes_;
  int64_t nodes_ = 0;
  bool exhausted_ = false;
  std::unordered_set<std::string> failed_;
};

}  // namespace

absl::StatusOr<std::optional<uint32_t>> SolveWord(absl::Span<const WordConstraint> constraints,
                                                  SolverLimits limits,
                                                  std::optional<uint32_t> hint) {
  // Inline storage: a launch proves its filter with thousands of these calls.
  absl::InlinedVector<WordConstraint, 128> cs;
  for (WordConstraint c : constraints) {
    if (c.op == CmpOp::kSet) {
      c.mask &= c.k;  // only the tested bits matter
      c.k = c.mask;
      if (c.mask == 0) {
        if (c.want) return std::nullopt;  // (x & 0) != 0 never holds
        continue;
      }
    } else if (c.mask == 0) {
      // (w & 0) is the constant 0: the outcome does not depend on w.
      if (!c.Holds(0)) return std::nullopt;
      continue;
    } else if (c.op == CmpOp::kEq && (c.k & ~c.mask) != 0) {
      if (c.want) return std::nullopt;  // masked value can never equal k
      continue;
    }
    cs.push_back(c);
  }
  auto all_hold = [&](uint32_t v) {
    for (const WordConstraint& c : cs) {
      if (!c.Holds(v)) return false;
    }
    return true;
  };
  for (const WordConstraint& c : cs) {
    if (c.op == CmpOp::kEq && c.want && c.mask == 0xffffffff) {
      if (all_hold(c.k)) return c.k;
      return std::nullopt;
    }
  }
  // Cheap candidates first: the hint, then the extremes (a chain of != on
  // small numbers is satisfied by a large value, and vice versa).
  // Interval bounds from full-width comparisons decide the common unsat
  // shapes (x < 0; x <= k and x == ... ) without a search.
  uint64_t lo = 0, hi = 0xffffffff;
  for (const WordConstraint& c : cs) {
    if (c.mask != 0xffffffff) continue;
    if (c.op == CmpOp::kGt) {
      if (c.want) lo = std::max<uint64_t>(lo, uint64_t{c.k} + 1);
      else hi = std::min<uint64_t>(hi, c.k);
    } else if (c.op == CmpOp::kGe) {
      if (c.want) lo = std::max<uint64_t>(lo, c.k);
      else if (c.k == 0) return std::nullopt;
      else hi = std::min<uint64_t>(hi, uint64_t{c.k} - 1);
    }
  }
  if (lo > hi) return std::nullopt;
  if (all_hold(static_cast<uint32_t>(lo))) return static_cast<uint32_t>(lo);
  if (all_hold(static_cast<uint32_t>(hi))) return static_cast<uint32_t>(hi);
  if (lo == hi) return std::nullopt;
  if (hint && all_hold(*hint)) return *hint;
  if (all_hold(0xffffffff)) return 0xffffffffu;
  if (all_hold(0)) return 0u;
  // Just inside each full-width range bound (x < k, x >= k, ...).
  for (const WordConstraint& c : cs) {
    if (c.mask != 0xffffffff || (c.op != CmpOp::kGt && c.op != CmpOp::kGe)) continue;
    const bool above = c.want;  // x > k or x >= k: try just above; else just below
    uint32_t v = c.op == CmpOp::kGt ? (above ? c.k + 1 : c.k) : (above ? c.k : c.k - 1);
    if (all_hold(v)) return v;
  }
  return WordSolver(std::vector<WordConstraint>(cs.begin(), cs.end()), limits.max_nodes).Solve();
}

namespace {

// Constraints index seccomp_data words; one outside it is a caller's error.
absl::Status CheckWords(absl::Span<const WordConstraint> constraints) {
  for (const WordConstraint& c : constraints) {
    if (c.word >= kSeccompWords) {
      return absl::InvalidArgumentError(
          absl::StrCat("constraint on word ", c.word, ", outside seccomp_data"));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::optional<SeccompInput>> SolveInput(absl::Span<const WordConstraint> constraints,
                                                       absl::Span<const WordConstraint> more,
                                                       SolverLimits limits) {
  // Grouped by word (a counting sort: one buffer, no per-word lists), each
  // word's constraints in their given order: the search, and so the witness,
  // depends on it.
  std::array<size_t, kSeccompWords + 1> start{};
  for (absl::Span<const WordConstraint> part : {constraints, more}) {
    RETURN_IF_ERROR(CheckWords(part));
    for (const WordConstraint& c : part) ++start[c.word + 1];
  }
  for (int w = 0; w < kSeccompWords; ++w) start[w + 1] += start[w];
  absl::InlinedVector<WordConstraint, 128> cs(start[kSeccompWords]);
  std::array<size_t, kSeccompWords + 1> next = start;
  for (absl::Span<const WordConstraint> part : {constraints, more}) {
    for (const WordConstraint& c : part) cs[next[c.word]++] = c;
  }
  SeccompInput in;
  for (int w = 0; w < kSeccompWords; ++w) {
    if (start[w + 1] == start[w]) continue;
    ASSIGN_OR_RETURN(std::optional<uint32_t> v,
                     SolveWord(absl::MakeConstSpan(cs.data() + start[w], start[w + 1] - start[w]),
                               limits));
    if (!v) return std::nullopt;
    in.w[w] = *v;
  }
  return in;
}

bool DecisionLeaf::Matches(const SeccompInput& in) const {
  for (const WordConstraint& c : constraints) {
    if (!c.Holds(in.w[c.word])) return false;
  }
  return true;
}

namespace {

class Explorer {
 public:
  // Path positions are 16-bit: jumps only go forward, so a path holds at most
  // one constraint per instruction, and a program has at most BPF_MAXINSNS.
  static_assert(BPF_MAXINSNS <= 0xffff);

  Explorer(const BpfProgram& program, DecisionTable::Limits limits)
      : insns_(program.insns()), limits_(limits) {}

  absl::Status Run() {
    // One allocation for the common case: a libseccomp filter has fewer
    // paths than instructions.
    leaves_.reserve(insns_.size());
    RETURN_IF_ERROR(Explore(0, Acc{}, 0));
    return absl::OkStatus();
  }
  std::vector<DecisionLeaf> TakeLeaves() { return std::move(leaves_); }

 private:
  struct Acc {
    bool is_const = true;
    uint32_t value = 0;  // when constant (A starts at 0)
    uint8_t word = 0;
    uint32_t mask = 0xffffffff;
  };

  // Whether the path stays feasible with `c` added; updates the witness.
  absl::StatusOr<bool> Assume(const WordConstraint& c) {
    if (c.Holds(witness_.w[c.word])) return true;
    // A word the path pins has one value, the witness's: nothing else fits.
    if ((pinned_.back() >> c.word) & 1) return false;
    if (c.op == CmpOp::kEq && c.want && c.mask == 0xffffffff) {
      // Pinning it: feasible exactly when k meets the path's constraints on
      // the word (the dispatch chain's `nr == k` after its `nr != k'`).
      work_ += static_cast<int64_t>(at_[c.word].size());
      for (uint16_t i : at_[c.word]) {
        if (!path_[i].Holds(c.k)) return false;
      }
      witness_.w[c.word] = c.k;
      return true;
    }
    scratch_.clear();
    for (uint16_t i : at_[c.word]) scratch_.push_back(path_[i]);
    scratch_.push_back(c);
    work_ += static_cast<int64_t>(scratch_.size()) * 32;
    if (work_ > limits_.max_work) {
      return absl::ResourceExhaustedError(absl::StrCat(
          "filter too complex: path constraints exceed the analysis budget (", limits_.max_work, ")"));
    }
    ASSIGN_OR_RETURN(std::optional<uint32_t> v, SolveWord(scratch_, limits_.solver));
    if (!v) return false;
    witness_.w[c.word] = *v;
    return true;
  }

  // The leaf at the end of the current path. Words the path pins (`w == k`
  // over all 32 bits) keep one constraint, `w == k`, where the word first
  // appears on the path: every other constraint on them is implied, the path
  // being feasible. The witness satisfies the whole path, so it holds each
  // pinned value.
  DecisionLeaf MakeLeaf(uint32_t ret, int depth) {
    DecisionLeaf leaf;
    leaf.ret = ret;
    leaf.witness = witness_;
    leaf.depth = depth;
    const uint16_t pinned = pinned_.back();
    leaf.pinned_mask = pinned;
    // The path positions to keep, from the per-word position lists: a leaf
    // deep in the syscall dispatch chain keeps a handful of its ~100
    // constraints, so this does not walk the path.
    keep_.clear();
    for (int w = 0; w < kSeccompWords; ++w) {
      const std::vector<uint16_t>& at = at_[w];
      if (at.empty()) continue;
      if ((pinned >> w) & 1) {
        keep_.push_back(at.front());
        leaf.pinned.w[w] = witness_.w[w];
      } else {
        keep_.insert(keep_.end(), at.begin(), at.end());
      }
    }
    std::sort(keep_.begin(), keep_.end());
    leaf.constraints.reserve(keep_.size());
    for (uint16_t i : keep_) {
      const WordConstraint& c = path_[i];
      leaf.constraints.push_back((pinned >> c.word) & 1 ? WordEq(c.word, witness_.w[c.word]) : c);
    }
    return leaf;
  }

  // Adds `c` (already assumed) to the path; `saved` is the witness word's
  // value before Assume, restored by Pop.
  void Push(const WordConstraint& c, uint32_t saved) {
    const bool pins = c.op == CmpOp::kEq && c.want && c.mask == 0xffffffff;
    at_[c.word].push_back(static_cast<uint16_t>(path_.size()));
    path_.push_back(c);
    pinned_.push_back(static_cast<uint16_t>(pinned_.back() | (pins ? 1u << c.word : 0u)));
    saved_.push_back(saved);
  }
  void Pop() {
    const WordConstraint& c = path_.back();
    witness_.w[c.word] = saved_.back();
    at_[c.word].pop_back();
    saved_.pop_back();
    pinned_.pop_back();
    path_.pop_back();
  }

  // Adds `c` to the path when the path stays feasible with it; false (and
  // nothing changed) when it does not.
  absl::StatusOr<bool> AssumeAndPush(const WordConstraint& c) {
    const uint32_t saved = witness_.w[c.word];
    ASSIGN_OR_RETURN(bool feasible, Assume(c));
    if (!feasible) {
      witness_.w[c.word] = saved;
      return false;
    }
    Push(c, saved);
    return true;
  }

  // Follows `target` under `c` in a new frame, if the path stays feasible.
  absl::Status Branch(size_t target, const Acc& acc, int depth, const WordConstraint& c) {
    ASSIGN_OR_RETURN(bool feasible, AssumeAndPush(c));
    if (!feasible) return absl::OkStatus();
    absl::Status s = Explore(target, acc, depth);
    Pop();
    return s;
  }

  // Explores from `pc`: the true side of each conditional jump in a new frame
  // (Branch), the false side in this one. A syscall dispatch chain is a long
  // run of `nr == k` tests whose false sides lead on, so the stack stays as
  // deep as the longest run of true sides, not the chain (~900 bytes a frame:
  // recursing on both made a 5-fd filter's proof touch ~90 KiB of stack).
  // The constraints this frame adds are removed again when it returns.
  absl::Status Explore(size_t pc, Acc acc, int depth) {
    const size_t base = path_.size();
    absl::Status s = Walk(pc, acc, depth);
    while (path_.size() > base) Pop();
    return s;
  }

  absl::Status Walk(size_t pc, Acc acc, int depth) {
    for (;;) {
      const BpfInsn& in = insns_[pc];
      ++depth;
      switch (in.code) {
        case BPF_LD | BPF_W | BPF_ABS:
          acc = Acc{.is_const = false, .value = 0, .word = static_cast<uint8_t>(in.k / 4),
                    .mask = 0xffffffff};
          ++pc;
          continue;
        case BPF_ALU | BPF_AND | BPF_K:
          if (acc.is_const) {
            acc.value &= in.k;
          } else {
            acc.mask &= in.k;
            if (acc.mask == 0) acc = Acc{};  // w & 0 is the constant 0
          }
          ++pc;
          continue;
        case BPF_JMP | BPF_JA:
          pc += 1 + in.k;
          continue;
        case BPF_RET | BPF_K:
          if (leaves_.size() >= limits_.max_leaves) {
            return absl::ResourceExhaustedError(absl::StrCat(
                "filter too complex: more than ", limits_.max_leaves, " paths"));
          }
          leaves_.push_back(MakeLeaf(in.k, depth));
          return absl::OkStatus();
        default:
          break;
      }
      // Conditional jump.
      const size_t t = pc + 1 + in.jt, f = pc + 1 + in.jf;
      CmpOp op = BPF_OP(in.code) == BPF_JEQ ? CmpOp::kEq
                 : BPF_OP(in.code) == BPF_JGT ? CmpOp::kGt
                 : BPF_OP(in.code) == BPF_JGE ? CmpOp::kGe
                                              : CmpOp::kSet;
      if (acc.is_const || t == f) {
        if (t == f) {
          pc = t;
          continue;
        }
        WordConstraint probe{0, op, 0xffffffff, in.k, true};
        pc = probe.Holds(acc.value) ? t : f;
        continue;
      }
      WordConstraint c{acc.word, op, acc.mask, in.k, true};
      RETURN_IF_ERROR(Branch(t, acc, depth, c));
      ASSIGN_OR_RETURN(bool feasible, AssumeAndPush(c.Negated()));
      if (!feasible) return absl::OkStatus();
      pc = f;
    }
  }

  const std::vector<BpfInsn>& insns_;
  DecisionTable::Limits limits_;
  std::vector<WordConstraint> path_;
  // pinned_[i]: the words the first i constraints of path_ pin (bit per word).
  std::vector<uint16_t> pinned_ = {0};
  // saved_[i]: the witness word path_[i] constrains, as it was before.
  std::vector<uint32_t> saved_;
  // at_[w]: the positions in path_ of the constraints on word w, ascending.
  std::array<std::vector<uint16_t>, kSeccompWords> at_;
  std::vector<uint16_t> keep_;  // MakeLeaf's positions
  std::vector<WordConstraint> scratch_;  // Assume's per-word constraints
  SeccompInput witness_;
  std::vector<DecisionLeaf> leaves_;
  int64_t work_ = 0;
};

}  // namespace

absl::StatusOr<DecisionTable> DecisionTable::Build(const BpfProgram& program, Limits limits) {
  Explorer e(program, limits);
  RETURN_IF_ERROR(e.Run());
  return DecisionTable(e.TakeLeaves(), limits.solver);
}

const DecisionLeaf* DecisionTable::Lookup(const SeccompInput& in) const {
  for (const DecisionLeaf& leaf : leaves_) {
    if (leaf.Matches(in)) return &leaf;
  }
  return nullptr;
}

DecisionTable::DecisionTable(std::vector<DecisionLeaf> leaves, SolverLimits solver)
    : leaves_(std::move(leaves)), solver_(solver) {
  all_.reserve(leaves_.size());
  for (uint32_t i = 0; i < leaves_.size(); ++i) {
    all_.push_back(i);
    if (leaves_[i].pinned_mask & 1) {
      by_nr_.push_back(i);
    } else {
      unpinned_.push_back(i);
    }
  }
  std::sort(by_nr_.begin(), by_nr_.end(), PinnedNrLess{this});
}

absl::StatusOr<std::optional<DecisionTable::Witness>> DecisionTable::Find(
    absl::FunctionRef<bool(uint32_t)> ret_pred, const std::vector<WordConstraint>& extra) const {
  RETURN_IF_ERROR(CheckWords(extra));
  for (const WordConstraint& c : extra) {
    if (c.word == 0 && c.op == CmpOp::kEq && c.want && c.mask == 0xffffffff) {
      auto [first, last] =
          std::equal_range(by_nr_.begin(), by_nr_.end(), Syscall{c.k}, PinnedNrLess{this});
      if (first != last) {
        ASSIGN_OR_RETURN(auto w, FindIn(absl::MakeConstSpan(&*first, static_cast<size_t>(last - first)),
                                        ret_pred, extra));
        if (w) return w;
      }
      return FindIn(unpinned_, ret_pred, extra);
    }
  }
  return FindIn(all_, ret_pred, extra);
}

absl::StatusOr<std::optional<DecisionTable::Witness>> DecisionTable::FindIn(
    absl::Span<const uint32_t> candidates, absl::FunctionRef<bool(uint32_t)> ret_pred,
    const std::vector<WordConstraint>& extra) const {
  for (uint32_t index : candidates) {
    const DecisionLeaf& leaf = leaves_[index];
    if (!ret_pred(leaf.ret)) continue;
    // Cheap exits before any search: a pinned word contradicting `extra`, or
    // the leaf's own witness already satisfying it.
    bool contradicts = false, witness_fits = true;
    for (const WordConstraint& c : extra) {
      if (((leaf.pinned_mask >> c.word) & 1) && !c.Holds(leaf.pinned.w[c.word])) {
        contradicts = true;
        break;
      }
    }
    if (contradicts) continue;
    for (const WordConstraint& c : extra) {
      if (!c.Holds(leaf.witness.w[c.word])) {
        witness_fits = false;
        break;
      }
    }
    if (witness_fits) return Witness{leaf.witness, leaf.ret};
    ASSIGN_OR_RETURN(std::optional<SeccompInput> in, SolveInput(leaf.constraints, extra, solver_));
    if (in) return Witness{*in, leaf.ret};
  }
  return std::nullopt;
}

}  // namespace fdattest
