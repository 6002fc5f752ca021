// libFuzzer target: seccomp BPF decoding, symbolic decision table and the
// launcher property checker, on arbitrary bytes.
//
// Every input is decoded. For an accepted program:
//   - Encode() reproduces the input bytes exactly;
//   - DecisionTable::Build() succeeds or reports ResourceExhausted;
//   - every leaf's witness satisfies the leaf, and Evaluate() on it returns
//     the leaf's ret after exactly the leaf's depth in instructions;
//   - on the leaf witnesses and on derived inputs (PRNG-generated, seeded by
//     the data, and boundary values around the program's constants), Lookup()
//     finds a leaf whose ret equals the concrete Evaluate(), and exactly one
//     leaf matches (for big tables these checks are sampled: Lookup() is
//     linear in the table);
//   - Find() with random extra constraints returns only genuine witnesses and
//     never "none" when a derived input is a witness;
//   - for tables of at most kMaxLeavesForProperties leaves,
//     CheckLauncherProperties() succeeds or reports ResourceExhausted, every
//     counterexample it gives is confirmed by Evaluate(), and no property it
//     proves is refuted by a derived input.
// A violation prints what went wrong and aborts, so libFuzzer records it.
#include <linux/filter.h>

#include <algorithm>
#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "common/bpf.h"
#include "common/bpf_properties.h"
#include "common/bpf_symbolic.h"

namespace fdattest {
namespace {

constexpr uint16_t kLdWAbs = BPF_LD | BPF_W | BPF_ABS, kAluAndK = BPF_ALU | BPF_AND | BPF_K,
                   kJeqK = BPF_JMP | BPF_JEQ | BPF_K, kJgtK = BPF_JMP | BPF_JGT | BPF_K,
                   kJgeK = BPF_JMP | BPF_JGE | BPF_K, kJsetK = BPF_JMP | BPF_JSET | BPF_K;

constexpr size_t kMaxLeaves = 20000;
constexpr int64_t kMaxSolverNodes = 1 << 16;
// CheckLauncherProperties() costs about a hundred Find() calls, each up to one
// SolveInput() per leaf: beyond this many leaves it is too slow for fuzzing
// under the sanitizers (seconds per input), so only smaller tables get it.
constexpr size_t kMaxLeavesForProperties = 512;
// Lookup() and the partition check are linear in the table's size (leaves
// plus constraints): bound the constraint evaluations spent on them per input
// and phase, so big tables stay fast (they are then sampled).
constexpr size_t kEvalBudget = 1 << 20;
constexpr size_t kMinChecks = 16;

// The number of whole-table scans the budget affords.
size_t AffordableScans(const DecisionTable& table) {
  size_t cost = 0;
  for (const DecisionLeaf& leaf : table.leaves()) cost += 1 + leaf.constraints.size();
  return std::max(kMinChecks, kEvalBudget / std::max<size_t>(cost, 1));
}

std::string Hex(absl::string_view bytes) {
  static const char kDigits[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out.push_back(kDigits[c >> 4]);
    out.push_back(kDigits[c & 15]);
  }
  return out;
}

absl::string_view g_input;  // the current fuzz input, for failure reports

[[noreturn]] __attribute__((format(printf, 1, 2))) void Fail(const char* fmt, ...) {
  std::fprintf(stderr, "\n==== bpf_fuzzer: invariant violated ====\n");
  va_list ap;
  va_start(ap, fmt);
  std::vfprintf(stderr, fmt, ap);
  va_end(ap);
  std::fprintf(stderr, "\ninput (%zu bytes): %s\n", g_input.size(), Hex(g_input).c_str());
  std::fflush(stderr);
  std::abort();
}

std::string InsnsText(const BpfProgram& p) {
  std::string s;
  for (size_t pc = 0; pc < p.insns().size(); ++pc) {
    s += "  " + std::to_string(pc) + ": " + Disassemble(p.insns()[pc], pc) + "\n";
  }
  return s;
}

std::string ConstraintsText(const std::vector<WordConstraint>& cs) {
  std::string s;
  for (const WordConstraint& c : cs) s += "  " + c.ToString() + "\n";
  return s;
}

// splitmix64, seeded from the data (FNV-1a), so runs are reproducible.
class Rng {
 public:
  explicit Rng(absl::string_view data) {
    uint64_t h = 0xcbf29ce484222325ull;
    for (unsigned char c : data) h = (h ^ c) * 0x100000001b3ull;
    state_ = h;
  }
  uint64_t Next() {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  uint32_t U32() { return static_cast<uint32_t>(Next()); }
  size_t Below(size_t n) { return n == 0 ? 0 : static_cast<size_t>(Next() % n); }
  bool Coin() { return (Next() & 1) != 0; }

 private:
  uint64_t state_;
};

struct ProgramFacts {
  std::vector<uint32_t> boundary;  // interesting word values
  std::vector<int> words;          // words the program loads
  std::vector<WordConstraint> tests;  // the comparisons as the program makes them
};

ProgramFacts Analyze(const BpfProgram& p) {
  std::set<uint32_t> values = {0u, 1u, 2u, 3u, 0x7fffffffu, 0x80000000u, 0xfffffffeu, 0xffffffffu,
                               kAuditArchX86_64, kAuditArchI386, kX32SyscallBit,
                               kX32SyscallBit - 1};
  std::set<int> words;
  std::vector<WordConstraint> tests;
  int word = -1;
  uint32_t mask = 0xffffffff;
  for (const BpfInsn& in : p.insns()) {
    switch (in.code) {
      case kLdWAbs:
        word = static_cast<int>(in.k / 4);
        mask = 0xffffffff;
        words.insert(word);
        break;
      case kAluAndK:
        mask &= in.k;
        values.insert(in.k);
        values.insert(~in.k);
        break;
      case kJeqK:
      case kJgtK:
      case kJgeK:
      case kJsetK: {
        const uint32_t k = in.k;
        for (uint32_t v : {k, k - 1, k + 1, ~k, k & mask, (k & mask) | ~mask}) values.insert(v);
        if (in.code == kJsetK && k != 0) {
          const uint32_t low = k & (~k + 1);
          values.insert(low);
          values.insert(k ^ low);
        }
        if (word >= 0 && tests.size() < 64) {
          const CmpOp op = in.code == kJeqK   ? CmpOp::kEq
                           : in.code == kJgtK ? CmpOp::kGt
                           : in.code == kJgeK ? CmpOp::kGe
                                              : CmpOp::kSet;
          tests.push_back({static_cast<uint8_t>(word), op, mask, k, true});
        }
        break;
      }
      default:
        break;
    }
    if (values.size() > 256) break;
  }
  ProgramFacts f;
  f.boundary.assign(values.begin(), values.end());
  f.words.assign(words.begin(), words.end());
  f.tests = std::move(tests);
  return f;
}

std::vector<SeccompInput> DeriveInputs(const DecisionTable& table, const ProgramFacts& facts,
                                       Rng& rng) {
  const auto& leaves = table.leaves();
  std::vector<SeccompInput> out;
  auto pick_word = [&]() -> int {
    if (!facts.words.empty() && rng.Below(4) != 0) return facts.words[rng.Below(facts.words.size())];
    return static_cast<int>(rng.Below(kSeccompWords));
  };
  auto pick_value = [&]() -> uint32_t {
    switch (rng.Below(4)) {
      case 0: return rng.U32();
      case 1: return static_cast<uint32_t>(rng.Below(512));
      default: return facts.boundary[rng.Below(facts.boundary.size())];
    }
  };
  // Random inputs: a leaf witness (or all-zero / random) with a few words
  // replaced by boundary or random values.
  for (int i = 0; i < 96; ++i) {
    SeccompInput in;
    const size_t base = rng.Below(3);
    if (base == 0 && !leaves.empty()) {
      in = leaves[rng.Below(leaves.size())].witness;
    } else if (base == 1) {
      for (uint32_t& w : in.w) w = pick_value();
    }
    const size_t n = 1 + rng.Below(3);
    for (size_t j = 0; j < n; ++j) in.w[pick_word()] = pick_value();
    out.push_back(in);
  }
  // Every boundary value in every loaded word, on some witness.
  for (int w : facts.words) {
    for (uint32_t v : facts.boundary) {
      SeccompInput in = leaves.empty() ? SeccompInput{} : leaves[rng.Below(leaves.size())].witness;
      in.w[w] = v;
      out.push_back(in);
      if (out.size() > 1024) return out;
    }
  }
  return out;
}

// One input: Lookup() and Evaluate() agree. With `exhaustive`, also exactly
// one leaf matches (the table is a partition).
void CheckAgreement(const BpfProgram& prog, const DecisionTable& table, const SeccompInput& in,
                    bool exhaustive, const char* origin) {
  const uint32_t concrete = prog.Evaluate(in);
  const DecisionLeaf* leaf = table.Lookup(in);
  if (leaf == nullptr) {
    Fail("Lookup() found no leaf for an input (%s)\n%s\nEvaluate() = %s\nprogram:\n%s", origin,
         in.DebugString().c_str(), DescribeRet(concrete).c_str(), InsnsText(prog).c_str());
  }
  if (leaf->ret != concrete) {
    Fail("symbolic/emulator disagreement (%s)\n%s\nEvaluate() = %s, Lookup() leaf ret = %s\n"
         "leaf constraints:\n%sprogram:\n%s",
         origin, in.DebugString().c_str(), DescribeRet(concrete).c_str(),
         DescribeRet(leaf->ret).c_str(), ConstraintsText(leaf->constraints).c_str(),
         InsnsText(prog).c_str());
  }
  if (exhaustive) {
    size_t matches = 0;
    for (const DecisionLeaf& l : table.leaves()) matches += l.Matches(in) ? 1 : 0;
    if (matches != 1) {
      Fail("%zu leaves match one input (%s), expected exactly 1\n%s\nprogram:\n%s", matches,
           origin, in.DebugString().c_str(), InsnsText(prog).c_str());
    }
  }
}

void CheckLeaves(const BpfProgram& prog, const DecisionTable& table, Rng& rng) {
  const auto& leaves = table.leaves();
  if (leaves.empty()) Fail("decision table has no leaves\nprogram:\n%s", InsnsText(prog).c_str());
  for (size_t i = 0; i < leaves.size(); ++i) {
    const DecisionLeaf& leaf = leaves[i];
    if (!leaf.Matches(leaf.witness)) {
      Fail("leaf %zu's witness does not satisfy its own constraints\n%s\nconstraints:\n%s"
           "program:\n%s",
           i, leaf.witness.DebugString().c_str(), ConstraintsText(leaf.constraints).c_str(),
           InsnsText(prog).c_str());
    }
    int steps = 0;
    const uint32_t concrete = prog.Evaluate(leaf.witness, &steps);
    if (concrete != leaf.ret) {
      Fail("leaf %zu: Evaluate(witness) = %s but the leaf says %s\n%s\nconstraints:\n%s"
           "program:\n%s",
           i, DescribeRet(concrete).c_str(), DescribeRet(leaf.ret).c_str(),
           leaf.witness.DebugString().c_str(), ConstraintsText(leaf.constraints).c_str(),
           InsnsText(prog).c_str());
    }
    if (steps != leaf.depth) {
      Fail("leaf %zu: depth %d but Evaluate(witness) executed %d instructions\nprogram:\n%s", i,
           leaf.depth, steps, InsnsText(prog).c_str());
    }
    for (int w = 0; w < kSeccompWords; ++w) {
      if (((leaf.pinned_mask >> w) & 1) && leaf.pinned.w[w] != leaf.witness.w[w]) {
        Fail("leaf %zu: word %s pinned to 0x%x but the witness has 0x%x\nprogram:\n%s", i,
             WordName(w).c_str(), leaf.pinned.w[w], leaf.witness.w[w], InsnsText(prog).c_str());
      }
    }
  }
  // Lookup() on the witnesses: all of them when affordable (and the partition
  // check on each too when that is affordable), else a sample.
  const size_t scans = AffordableScans(table);
  if (leaves.size() <= scans) {
    const bool exhaustive = 2 * leaves.size() <= scans;
    for (const DecisionLeaf& leaf : leaves) {
      CheckAgreement(prog, table, leaf.witness, exhaustive, "leaf witness");
    }
  } else {
    for (size_t i = 0; i < scans; ++i) {
      CheckAgreement(prog, table, leaves[rng.Below(leaves.size())].witness, false,
                     "sampled leaf witness");
    }
  }
}

// Find() with a random return predicate and random extra constraints: any
// witness is genuine, and "none" is refuted by no derived input.
void CheckFind(const BpfProgram& prog, const DecisionTable& table, const ProgramFacts& facts,
               const std::vector<SeccompInput>& inputs, Rng& rng) {
  for (int round = 0; round < 4; ++round) {
    std::vector<WordConstraint> extra;
    const size_t n = rng.Below(4);
    for (size_t i = 0; i < n; ++i) {
      WordConstraint c;
      if (!facts.tests.empty() && rng.Coin()) {
        c = facts.tests[rng.Below(facts.tests.size())];
      } else {
        c.word = static_cast<uint8_t>(facts.words.empty() ? rng.Below(kSeccompWords)
                                                          : facts.words[rng.Below(facts.words.size())]);
        c.op = static_cast<CmpOp>(rng.Below(4));
        c.mask = rng.Coin() ? 0xffffffffu : facts.boundary[rng.Below(facts.boundary.size())];
        c.k = facts.boundary[rng.Below(facts.boundary.size())];
      }
      c.want = rng.Coin();
      extra.push_back(c);
    }
    const uint32_t target = table.leaves()[rng.Below(table.leaves().size())].ret;
    const bool by_action = rng.Coin();
    auto pred = [&](uint32_t r) { return by_action ? ActionOf(r) == ActionOf(target) : r == target; };
    absl::StatusOr<std::optional<DecisionTable::Witness>> found = table.Find(pred, extra);
    if (!found.ok()) {
      if (absl::IsResourceExhausted(found.status())) continue;
      Fail("Find() failed: %s\nprogram:\n%s", std::string(found.status().ToString()).c_str(),
           InsnsText(prog).c_str());
    }
    auto satisfies = [&](const SeccompInput& in) {
      for (const WordConstraint& c : extra) {
        if (!c.Holds(in.w[c.word])) return false;
      }
      return true;
    };
    if (found->has_value()) {
      const DecisionTable::Witness& w = **found;
      const uint32_t concrete = prog.Evaluate(w.input);
      if (!satisfies(w.input) || concrete != w.ret || !pred(w.ret)) {
        Fail("Find() returned a bad witness\n%s\nreported ret %s, Evaluate() = %s, satisfies "
             "extra: %d\nextra:\n%sprogram:\n%s",
             w.input.DebugString().c_str(), DescribeRet(w.ret).c_str(),
             DescribeRet(concrete).c_str(), satisfies(w.input) ? 1 : 0,
             ConstraintsText(extra).c_str(), InsnsText(prog).c_str());
      }
    } else {
      for (const SeccompInput& in : inputs) {
        if (satisfies(in) && pred(prog.Evaluate(in))) {
          Fail("Find() says no input exists, but this one is a witness\n%s\nEvaluate() = %s\n"
               "extra:\n%sprogram:\n%s",
               in.DebugString().c_str(), DescribeRet(prog.Evaluate(in)).c_str(),
               ConstraintsText(extra).c_str(), InsnsText(prog).c_str());
        }
      }
    }
  }
}

// Syscall numbers (x86_64) used by the property cross-checks.
constexpr uint32_t kSysRead = 0, kSysWrite = 1, kSysOpen = 2, kSysClose = 3, kSysSocket = 41,
                   kSysDup2 = 33, kSysExecve = 59, kSysPtrace = 101;

void CheckProperties(const BpfProgram& prog, const DecisionTable& table,
                     std::vector<SeccompInput> inputs, Rng& rng) {
  FdSets fds;
  switch (rng.Below(3)) {
    case 0:
      fds.readable = {0, 3};
      fds.writable = {1, 2};
      fds.append = {2};
      fds.exec_fd = 5;
      break;
    case 1:
      fds.readable = {0};
      fds.writable = {1};
      break;
    default:
      break;  // no descriptors at all
  }
  absl::StatusOr<std::vector<PropertyResult>> results = CheckLauncherProperties(table, fds);
  if (!results.ok()) {
    if (absl::IsResourceExhausted(results.status())) return;
    Fail("CheckLauncherProperties() failed: %s\nprogram:\n%s",
         std::string(results.status().ToString()).c_str(), InsnsText(prog).c_str());
  }
  std::map<std::string, const PropertyResult*> by_id;
  for (const PropertyResult& r : *results) {
    if (!by_id.emplace(r.id, &r).second) Fail("property id %s reported twice", r.id.c_str());
    if (r.holds != !r.counterexample.has_value()) {
      Fail("property %s: holds=%d but counterexample present=%d", r.id.c_str(), r.holds ? 1 : 0,
           r.counterexample.has_value() ? 1 : 0);
    }
    if (r.counterexample) {
      const uint32_t concrete = prog.Evaluate(*r.counterexample);
      if (concrete != r.counterexample_ret) {
        Fail("property %s: counterexample %s reported as %s but Evaluate() = %s\nprogram:\n%s",
             r.id.c_str(), r.counterexample->DebugString().c_str(),
             DescribeRet(r.counterexample_ret).c_str(), DescribeRet(concrete).c_str(),
             InsnsText(prog).c_str());
      }
      CheckAgreement(prog, table, *r.counterexample, false, "property counterexample");
    }
  }
  auto get = [&](const char* id) -> const PropertyResult& {
    auto it = by_id.find(id);
    if (it == by_id.end()) Fail("property %s missing from the results", id);
    return *it->second;
  };
  // A concrete input that refutes a property the checker says holds.
  auto refuted = [&](const char* id, const SeccompInput& in, uint32_t ret) {
    if (get(id).holds) {
      Fail("property %s is reported to hold, but this input refutes it\n%s\nEvaluate() = %s\n"
           "program:\n%s",
           id, in.DebugString().c_str(), DescribeRet(ret).c_str(), InsnsText(prog).c_str());
    }
  };
  // Exact: every leaf is reachable, so deferred actions appear iff a leaf has one.
  bool deferred = false;
  for (const DecisionLeaf& leaf : table.leaves()) {
    const SeccompAction a = ActionOf(leaf.ret);
    if (a == SeccompAction::kTrap || a == SeccompAction::kTrace || a == SeccompAction::kUserNotif ||
        a == SeccompAction::kLog || a == SeccompAction::kKillThread) {
      refuted("no-deferred-actions", leaf.witness, leaf.ret);
      deferred = true;
    }
  }
  if (!deferred && !get("no-deferred-actions").holds) {
    Fail("no-deferred-actions refuted, but no leaf returns a deferred action\nprogram:\n%s",
         InsnsText(prog).c_str());
  }
  // Extra inputs aimed at the fd rules: read/write/never-allowed syscalls.
  const size_t n = inputs.size();
  for (size_t i = 0; i < n && i < 64; ++i) {
    SeccompInput in = inputs[rng.Below(n)];
    in.w[1] = kAuditArchX86_64;
    static constexpr uint32_t kNrs[] = {kSysRead, kSysWrite, kSysOpen, kSysClose, kSysSocket,
                                        kSysDup2, kSysExecve, kSysPtrace};
    in.w[0] = kNrs[rng.Below(sizeof(kNrs) / sizeof(kNrs[0]))];
    if (rng.Coin()) in.w[ArgLoWord(0)] = static_cast<uint32_t>(rng.Below(6));
    if (rng.Coin()) in.w[ArgHiWord(0)] = 0;
    inputs.push_back(in);
  }
  for (const SeccompInput& in : inputs) {
    const uint32_t ret = prog.Evaluate(in);
    const SeccompAction a = ActionOf(ret);
    const bool allow = a == SeccompAction::kAllow;
    const uint32_t fd = in.w[ArgLoWord(0)];
    const bool x86 = in.arch() == kAuditArchX86_64;
    // An i386 syscall's arguments reach seccomp zero-extended: the property
    // covers the inputs the kernel can produce, not impossible upper halves.
    bool deliverable = true;
    if (in.arch() == kAuditArchI386) {
      for (int arg = 0; arg < 6; ++arg) deliverable = deliverable && in.w[ArgHiWord(arg)] == 0;
    }
    if (!x86 && deliverable && a != SeccompAction::kKillProcess) {
      refuted("foreign-arch-killed", in, ret);
    }
    if (x86 && in.nr() >= kX32SyscallBit && in.nr() != 0xffffffff &&
        a != SeccompAction::kKillProcess) {
      refuted("x32-killed", in, ret);
    }
    if (!x86 || !allow) {
      // declared-fds-usable: read/write on a declared fd with hi32 0 must be allowed.
      if (x86 && in.w[ArgHiWord(0)] == 0 && fd <= 0x7fffffff) {
        const int ifd = static_cast<int>(fd);
        if ((in.nr() == kSysRead && fds.readable.contains(ifd)) ||
            (in.nr() == kSysWrite && fds.writable.contains(ifd))) {
          refuted("declared-fds-usable", in, ret);
        }
      }
      continue;
    }
    switch (in.nr()) {
      case kSysOpen:
      case kSysClose:
      case kSysSocket:
      case kSysDup2:
      case kSysExecve:
      case kSysPtrace:
        refuted("never-allowed", in, ret);
        break;
      case kSysRead:
        if (fd > 0x7fffffff || !fds.readable.contains(static_cast<int>(fd))) {
          refuted("read-family-fds", in, ret);
        }
        break;
      case kSysWrite:
        if (fd > 0x7fffffff || !fds.writable.contains(static_cast<int>(fd))) {
          refuted("write-family-fds", in, ret);
        }
        break;
      default:
        break;
    }
  }
}

void FuzzOne(absl::string_view bytes) {
  g_input = bytes;
  absl::StatusOr<BpfProgram> prog = BpfProgram::Decode(bytes);
  if (!prog.ok()) {
    if (!absl::IsInvalidArgument(prog.status())) {
      Fail("Decode() failed with a code other than InvalidArgument: %s",
           std::string(prog.status().ToString()).c_str());
    }
    return;
  }
  if (prog->Encode() != std::string(bytes)) {
    Fail("Encode() does not reproduce the decoded bytes\nre-encoded: %s",
         Hex(prog->Encode()).c_str());
  }
  if (absl::Status s = BpfProgram::CheckKernelAcceptance(prog->insns()); !s.ok()) {
    Fail("Decode() accepted a program the kernel checks refuse: %s",
         std::string(s.ToString()).c_str());
  }
  (void)InsnsText(*prog);  // exercises Disassemble() on every instruction

  DecisionTable::Limits limits;
  limits.max_leaves = kMaxLeaves;
  limits.solver.max_nodes = kMaxSolverNodes;
  absl::StatusOr<DecisionTable> table = DecisionTable::Build(*prog, limits);
  if (!table.ok()) {
    if (absl::IsResourceExhausted(table.status())) return;  // explicit "too complex"
    Fail("DecisionTable::Build() failed: %s\nprogram:\n%s",
         std::string(table.status().ToString()).c_str(), InsnsText(*prog).c_str());
  }
  if (table->leaves().size() > kMaxLeaves) {
    Fail("DecisionTable has %zu leaves, above max_leaves %zu", table->leaves().size(), kMaxLeaves);
  }

  Rng rng(bytes);
  CheckLeaves(*prog, *table, rng);
  const ProgramFacts facts = Analyze(*prog);
  const std::vector<SeccompInput> inputs = DeriveInputs(*table, facts, rng);
  // Each derived input: Lookup() plus the partition check, about two scans.
  const size_t checks = std::max(kMinChecks, AffordableScans(*table) / 2);
  for (size_t i = 0; i < inputs.size() && i < checks; ++i) {
    const size_t j = inputs.size() <= checks ? i : rng.Below(inputs.size());
    CheckAgreement(*prog, *table, inputs[j], true, "derived input");
  }
  CheckFind(*prog, *table, facts, inputs, rng);
  if (table->leaves().size() <= kMaxLeavesForProperties) {
    CheckProperties(*prog, *table, inputs, rng);
  }
}

}  // namespace
}  // namespace fdattest

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fdattest::FuzzOne(absl::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
