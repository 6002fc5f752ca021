// Differential test of the BPF analyzer against the live kernel. For every
// program of the corpus (launcher filters for several profiles, libseccomp
// output at both optimisation levels, a Docker-like allowlist, hand-assembled
// and random programs of the subset), every input's answer from the kernel
// (a child that installed the program, see tests/support/kernel_oracle.h)
// must equal the emulator's, and the decision table must place the input in
// exactly one leaf whose return value is the emulator's.
#include <linux/filter.h>

#include <algorithm>
#include <chrono>
#include <iostream>
#include <map>
#include <set>
#include <unordered_map>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/bpf.h"
#include "common/bpf_symbolic.h"
#include "gtest/gtest.h"
#include "tests/bpf_diff/corpus.h"
#include "tests/bpf_diff/inputs.h"
#include "tests/support/ia32.h"
#include "tests/support/kernel_oracle.h"

namespace fdattest::bpf_diff {
namespace {

constexpr size_t kInputsPerProgram = 52000;
constexpr size_t kBatch = 50000;
constexpr size_t kMinTotalInputs = 1000000;
constexpr size_t kFullScanSample = 20000;
constexpr int kMaxReported = 10;
// Inputs the kernel decides without the filter (reserved numbers on some
// kernels) must stay a handful of syscall numbers.
constexpr size_t kMaxNulloptNumbers = 4;

double Seconds(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count();
}

// Leaves that can match an input with this (arch, nr): those whose nr and
// arch constraints hold. Every other leaf fails one of them, so scanning the
// candidates finds every matching leaf.
class LeafIndex {
 public:
  explicit LeafIndex(const DecisionTable& table) : table_(table) {}

  const std::vector<uint32_t>& Candidates(const SeccompInput& in) {
    const uint64_t key = (uint64_t{in.arch()} << 32) | in.nr();
    auto it = cache_.find(key);
    if (it != cache_.end()) return it->second;
    std::vector<uint32_t> c;
    const auto& leaves = table_.leaves();
    for (size_t i = 0; i < leaves.size(); ++i) {
      if ((leaves[i].pinned_mask & 1) && leaves[i].pinned.w[0] != in.nr()) continue;
      bool ok = true;
      for (const WordConstraint& wc : leaves[i].constraints) {
        if (wc.word <= 1 && !wc.Holds(in.w[wc.word])) {
          ok = false;
          break;
        }
      }
      if (ok) c.push_back(static_cast<uint32_t>(i));
    }
    return cache_.emplace(key, std::move(c)).first->second;
  }

 private:
  const DecisionTable& table_;
  std::unordered_map<uint64_t, std::vector<uint32_t>> cache_;
};

struct Prepared {
  CorpusProgram program;
  std::optional<BpfProgram> bpf;
  std::optional<DecisionTable> table;
  std::vector<SeccompInput> inputs;
  // Per leaf, the indexes in `inputs` of its witnesses the kernel can issue.
  std::vector<std::vector<size_t>> leaf_witnesses;
};

// Witnesses of `leaf` on each architecture the kernel can produce (i386 with
// zero hi words); none when the leaf is unreachable from real syscalls.
absl::StatusOr<std::vector<SeccompInput>> KernelWitnesses(const DecisionLeaf& leaf) {
  std::vector<SeccompInput> out;
  for (uint32_t arch : {kAuditArchX86_64, kAuditArchI386}) {
    std::vector<WordConstraint> cs = leaf.constraints;
    cs.push_back(WordEq(1, arch));
    if (arch == kAuditArchI386) {
      for (int a = 0; a < 6; ++a) cs.push_back(WordEq(ArgHiWord(a), 0));
    }
    ASSIGN_OR_RETURN(std::optional<SeccompInput> in, SolveInput(cs));
    if (in) out.push_back(*in);
  }
  return out;
}

absl::StatusOr<Prepared> Prepare(const std::string& name) {
  Prepared p;
  ASSIGN_OR_RETURN(p.program, BuildCorpusProgram(name));
  auto bpf = BpfProgram::Decode(p.program.bytes);
  if (!bpf.ok()) {
    return absl::Status(bpf.status().code(), absl::StrCat(name, ": ", bpf.status().message()));
  }
  p.bpf = std::move(*bpf);
  auto table = DecisionTable::Build(*p.bpf);
  if (!table.ok()) {
    return absl::Status(table.status().code(), absl::StrCat(name, ": ", table.status().message()));
  }
  p.table = std::move(*table);
  p.inputs = GenerateInputs(*p.bpf, p.program.fds, SeedOf(name), kInputsPerProgram);
  for (const DecisionLeaf& leaf : p.table->leaves()) {
    ASSIGN_OR_RETURN(std::vector<SeccompInput> witnesses, KernelWitnesses(leaf));
    p.leaf_witnesses.emplace_back();
    for (const SeccompInput& in : witnesses) {
      p.leaf_witnesses.back().push_back(p.inputs.size());
      p.inputs.push_back(in);
    }
  }
  return p;
}

TEST(BpfDiffCorpusTest, CorpusHasEveryShape) {
  std::map<std::string, int> kinds;
  std::set<uint16_t> hand_codes;
  bool jt_equals_jf = false;
  std::map<std::string, std::string> bytes;
  for (const std::string& name : CorpusNames()) {
    auto program = BuildCorpusProgram(name);
    ASSERT_TRUE(program.ok()) << program.status();
    auto bpf = BpfProgram::Decode(program->bytes);
    ASSERT_TRUE(bpf.ok()) << name << ": " << bpf.status();
    EXPECT_EQ(bpf->Encode(), program->bytes) << name;
    ++kinds[program->kind];
    bytes[name] = program->bytes;
    if (program->kind != "hand") continue;
    for (const BpfInsn& in : bpf->insns()) {
      hand_codes.insert(in.code);
      if (BPF_CLASS(in.code) == BPF_JMP && BPF_OP(in.code) != BPF_JA && in.jt == in.jf) {
        jt_equals_jf = true;
      }
    }
  }
  EXPECT_GE(kinds["launcher"], 4);
  EXPECT_GE(kinds["libseccomp"], 4);
  EXPECT_GE(kinds["hand"], 4);
  for (uint16_t code : {BPF_LD | BPF_W | BPF_ABS, BPF_ALU | BPF_AND | BPF_K, BPF_JMP | BPF_JA,
                        BPF_JMP | BPF_JEQ | BPF_K, BPF_JMP | BPF_JGT | BPF_K,
                        BPF_JMP | BPF_JGE | BPF_K, BPF_JMP | BPF_JSET | BPF_K, BPF_RET | BPF_K}) {
    EXPECT_TRUE(hand_codes.contains(code)) << "no hand program uses opcode " << code;
  }
  EXPECT_TRUE(jt_equals_jf);
  // The binary-tree layout really is a different program.
  EXPECT_NE(bytes["libseccomp_args_opt1"], bytes["libseccomp_args_opt2"]);
  EXPECT_NE(bytes["docker_like_opt1"], bytes["docker_like_opt2"]);
  EXPECT_GE(bytes["docker_like_opt1"].size() / sizeof(sock_filter), 300u);
}

TEST(BpfDiffCorpusTest, AtLeastAMillionInputs) {
  size_t total = 0;
  for (const std::string& name : CorpusNames()) {
    auto p = Prepare(name);
    ASSERT_TRUE(p.ok()) << p.status();
    total += p->inputs.size();
    for (const SeccompInput& in : p->inputs) ASSERT_TRUE(KernelCanIssue(in)) << in.DebugString();
  }
  std::cout << "corpus: " << CorpusNames().size() << " programs, " << total << " inputs\n";
  RecordProperty("programs", static_cast<int>(CorpusNames().size()));
  RecordProperty("inputs", static_cast<int>(total));
  EXPECT_GE(total, kMinTotalInputs);
}

class BpfDiffTest : public ::testing::TestWithParam<std::string> {};

TEST_P(BpfDiffTest, KernelEmulatorAndDecisionTableAgree) {
  const std::string& name = GetParam();
  const auto start = std::chrono::steady_clock::now();
  auto prepared = Prepare(name);
  ASSERT_TRUE(prepared.ok()) << prepared.status();
  const BpfProgram& bpf = *prepared->bpf;
  const DecisionTable& table = *prepared->table;
  const std::vector<SeccompInput>& inputs = prepared->inputs;
  ASSERT_GE(inputs.size(), kInputsPerProgram);
  const double prepare_s = Seconds(start);

  auto oracle = testing::KernelOracle::New(bpf);
  ASSERT_TRUE(oracle.ok()) << oracle.status();
  const auto kernel_start = std::chrono::steady_clock::now();
  // Without IA32 emulation the kernel runs no i386 input (tests/support/ia32.h):
  // those are left unanswered and out of the kernel's own numbers below; the
  // emulator and the table are still compared on them.
  const bool with_i386 = testing::HasIa32Emulation();
  std::vector<size_t> run;  // indexes of the inputs the kernel is asked
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (with_i386 || inputs[i].arch() != kAuditArchI386) run.push_back(i);
  }
  std::vector<std::optional<uint32_t>> kernel(inputs.size());
  for (size_t begin = 0; begin < run.size(); begin += kBatch) {
    const size_t end = std::min(run.size(), begin + kBatch);
    std::vector<SeccompInput> batch;
    for (size_t j = begin; j < end; ++j) batch.push_back(inputs[run[j]]);
    auto answers = oracle->Run(batch);
    ASSERT_TRUE(answers.ok()) << name << ": " << answers.status();
    ASSERT_EQ(answers->size(), batch.size());
    for (size_t j = begin; j < end; ++j) kernel[run[j]] = (*answers)[j - begin];
  }
  const size_t not_run = inputs.size() - run.size();
  const double kernel_s = Seconds(kernel_start);

  const auto check_start = std::chrono::steady_clock::now();
  LeafIndex index(table);
  std::vector<bool> leaf_hit(table.leaves().size(), false);
  size_t kernel_mismatches = 0, table_mismatches = 0, nullopt = 0, full_scans = 0;
  std::set<std::pair<uint32_t, int32_t>> nullopt_numbers;  // (arch, nr)
  const size_t sample_stride = std::max<size_t>(1, inputs.size() / kFullScanSample);
  for (size_t i = 0; i < inputs.size(); ++i) {
    const SeccompInput& in = inputs[i];
    const uint32_t emulated = bpf.Evaluate(in);
    if (!with_i386 && in.arch() == kAuditArchI386) {
      // not run: no IA32 emulation
    } else if (!kernel[i].has_value()) {
      ++nullopt;
      nullopt_numbers.insert({in.arch(), static_cast<int32_t>(in.nr())});
    } else if (*kernel[i] != emulated) {
      if (++kernel_mismatches <= kMaxReported) {
        ADD_FAILURE() << name << ": input " << i << " " << in.DebugString() << "\n  kernel "
                      << DescribeRet(*kernel[i]) << " (0x" << std::hex << *kernel[i]
                      << "), emulator " << DescribeRet(emulated) << " (0x" << emulated << std::dec
                      << ")";
      }
    }
    // Exactly one leaf matches, and it answers what the emulator does.
    int matches = 0;
    uint32_t leaf_ret = 0;
    for (uint32_t l : index.Candidates(in)) {
      if (table.leaves()[l].Matches(in)) {
        ++matches;
        leaf_ret = table.leaves()[l].ret;
        if (kernel[i].has_value()) leaf_hit[l] = true;
      }
    }
    if (matches != 1 || leaf_ret != emulated) {
      if (++table_mismatches <= kMaxReported) {
        ADD_FAILURE() << name << ": input " << i << " " << in.DebugString() << "\n  " << matches
                      << " leaves match, leaf answer " << DescribeRet(leaf_ret) << ", emulator "
                      << DescribeRet(emulated);
      }
    }
    // On a sample, the table's own Lookup and a scan over every leaf.
    if (i % sample_stride == 0 || i + 1 == inputs.size()) {
      ++full_scans;
      const DecisionLeaf* found = table.Lookup(in);
      int all_matches = 0;
      for (const DecisionLeaf& leaf : table.leaves()) all_matches += leaf.Matches(in) ? 1 : 0;
      if (found == nullptr || found->ret != emulated || all_matches != 1) {
        if (++table_mismatches <= kMaxReported) {
          ADD_FAILURE() << name << ": input " << i << " " << in.DebugString() << "\n  Lookup "
                        << (found ? DescribeRet(found->ret) : std::string("none")) << ", "
                        << all_matches << " leaves match in a full scan, emulator "
                        << DescribeRet(emulated);
        }
      }
    }
  }
  // Each leaf's witness reaches that leaf.
  for (const DecisionLeaf& leaf : table.leaves()) {
    EXPECT_TRUE(leaf.Matches(leaf.witness)) << name << ": " << leaf.witness.DebugString();
    EXPECT_EQ(bpf.Evaluate(leaf.witness), leaf.ret) << name << ": " << leaf.witness.DebugString();
  }
  const double check_s = Seconds(check_start);
  // Leaf coverage: every leaf a real syscall can reach was reached by an
  // input the kernel answered, unless the kernel answered all its witnesses
  // by itself.
  size_t reachable = 0, hit = 0, kernel_only = 0;
  for (size_t l = 0; l < table.leaves().size(); ++l) {
    const auto& witnesses = prepared->leaf_witnesses[l];
    for (size_t w : witnesses) {
      EXPECT_TRUE(table.leaves()[l].Matches(inputs[w])) << name << ": " << inputs[w].DebugString();
    }
    if (witnesses.empty()) continue;
    ++reachable;
    if (leaf_hit[l]) {
      ++hit;
    } else if (std::all_of(witnesses.begin(), witnesses.end(),
                           [&](size_t w) { return !kernel[w].has_value(); })) {
      ++kernel_only;
    }
  }
  EXPECT_EQ(hit + kernel_only, reachable) << name;

  std::vector<std::string> numbers;
  std::set<int32_t> distinct_nrs;
  for (const auto& [arch, nr] : nullopt_numbers) {
    numbers.push_back(absl::StrCat(arch == kAuditArchI386 ? "i386:" : "x86_64:", nr));
    distinct_nrs.insert(nr);
  }
  std::cout << name << ": " << bpf.insns().size() << " insns, " << table.leaves().size()
            << " leaves (" << reachable << " reachable by a syscall, " << hit << " reached, "
            << kernel_only << " only by numbers the kernel decides), " << inputs.size()
            << " inputs (" << not_run << " i386 ones not run: no IA32 emulation), "
            << inputs.size() - not_run - nullopt << " decided by the filter, " << nullopt
            << " by the kernel alone [" << absl::StrJoin(numbers, " ") << "]; prepare " << prepare_s
            << "s, kernel " << kernel_s << "s, checks " << check_s << "s; " << full_scans
            << " full scans\n";
  RecordProperty("instructions", static_cast<int>(bpf.insns().size()));
  RecordProperty("leaves", static_cast<int>(table.leaves().size()));
  RecordProperty("leaves_reachable", static_cast<int>(reachable));
  RecordProperty("leaves_reached", static_cast<int>(hit));
  RecordProperty("inputs", static_cast<int>(inputs.size()));
  RecordProperty("kernel_nullopt", static_cast<int>(nullopt));
  RecordProperty("kernel_nullopt_numbers", absl::StrJoin(numbers, " "));
  RecordProperty("full_scans", static_cast<int>(full_scans));

  EXPECT_EQ(kernel_mismatches, 0u) << name;
  EXPECT_EQ(table_mismatches, 0u) << name;
  EXPECT_GE(full_scans, kFullScanSample);
  EXPECT_LE(distinct_nrs.size(), kMaxNulloptNumbers) << absl::StrJoin(numbers, " ");
  // The kernel's own decision depends on the number alone: no input with one
  // of those numbers (and that arch) was left to the filter.
  size_t answered_with_those = 0;
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (kernel[i].has_value() &&
        nullopt_numbers.contains({inputs[i].arch(), static_cast<int32_t>(inputs[i].nr())})) {
      ++answered_with_those;
    }
  }
  EXPECT_EQ(answered_with_those, 0u) << name;
}

INSTANTIATE_TEST_SUITE_P(Corpus, BpfDiffTest, ::testing::ValuesIn(CorpusNames()),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           return info.param;
                         });

}  // namespace
}  // namespace fdattest::bpf_diff
