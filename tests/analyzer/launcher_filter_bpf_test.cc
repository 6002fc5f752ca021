// Decoder, emulator and symbolic executor on launcher filters, with the
// live kernel as the reference.
#include "common/bpf.h"

#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/syscall.h>

#include <random>

#include "common/bpf_properties.h"
#include "common/bpf_symbolic.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "launcher/filter.h"
#include "tests/support/ia32.h"
#include "tests/support/kernel_oracle.h"

namespace fdattest {
namespace {

using ::testing::HasSubstr;

std::string LauncherFilter() {
  FilterSpec spec{.fds = {{0, Access::kRead}, {1, Access::kWrite}, {2, Access::kAppend},
                          {3, Access::kReadWrite}},
                  .exec_fd = 9};
  return *CompileFilter(spec);
}

// i386 inputs only where the kernel runs them (tests/support/ia32.h).
SeccompInput RandomInput(std::mt19937_64& rng, bool with_i386 = true) {
  SeccompInput in;
  in.w[1] = rng() % 8 == 0 && with_i386 ? kAuditArchI386 : kAuditArchX86_64;
  in.w[0] = rng() % 4 == 0 ? static_cast<uint32_t>(rng()) : static_cast<uint32_t>(rng() % 460);
  for (int a = 0; a < 6; ++a) {
    uint64_t v = rng() % 3 == 0 ? rng() % 10 : rng() % 3 == 0 ? (rng() << 32) | (rng() % 10) : rng();
    if (in.arch() == kAuditArchI386) v &= 0xffffffff;
    in.set_arg(a, v);
  }
  return in;
}

TEST(BpfDecodeTest, RoundTripsLauncherFilter) {
  std::string bytes = LauncherFilter();
  auto p = BpfProgram::Decode(bytes);
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->Encode(), bytes);
}

TEST(BpfDecodeTest, RejectsWithInstructionIndex) {
  // ld [8] (instruction_pointer) then ret ALLOW.
  std::string bytes("\x20\x00\x00\x00\x08\x00\x00\x00\x06\x00\x00\x00\x00\x00\xff\x7f", 16);
  EXPECT_THAT(BpfProgram::Decode(bytes).status().message(),
              HasSubstr("instruction 0 (ld ip.lo32): loads instruction_pointer"));
  EXPECT_THAT(BpfProgram::Decode("").status().message(), HasSubstr("0 bytes"));
}

TEST(BpfEmulatorTest, AgreesWithTheKernel) {
  auto p = BpfProgram::Decode(LauncherFilter());
  ASSERT_TRUE(p.ok());
  auto oracle = testing::KernelOracle::New(*p);
  ASSERT_TRUE(oracle.ok()) << oracle.status();
  std::mt19937_64 rng(7);
  std::vector<SeccompInput> inputs;
  const bool with_i386 = testing::HasIa32Emulation();
  for (int i = 0; i < 20000; ++i) inputs.push_back(RandomInput(rng, with_i386));
  auto kernel = oracle->Run(inputs);
  ASSERT_TRUE(kernel.ok()) << kernel.status();
  int trapped = 0;
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (!(*kernel)[i]) {
      ++trapped;  // the kernel stopped the process before any filter ran
      continue;
    }
    ASSERT_EQ(p->Evaluate(inputs[i]), *(*kernel)[i]) << inputs[i].DebugString();
  }
  EXPECT_LT(trapped, 200);
}

TEST(BpfSymbolicTest, LeavesPartitionInputsAndMatchEmulator) {
  auto p = BpfProgram::Decode(LauncherFilter());
  ASSERT_TRUE(p.ok());
  auto table = DecisionTable::Build(*p);
  ASSERT_TRUE(table.ok()) << table.status();
  std::mt19937_64 rng(11);
  for (int i = 0; i < 5000; ++i) {
    SeccompInput in = RandomInput(rng);
    int matches = 0;
    uint32_t ret = 0;
    for (const DecisionLeaf& leaf : table->leaves()) {
      if (leaf.Matches(in)) {
        ++matches;
        ret = leaf.ret;
      }
    }
    ASSERT_EQ(matches, 1) << in.DebugString();
    ASSERT_EQ(ret, p->Evaluate(in)) << in.DebugString();
  }
  for (const DecisionLeaf& leaf : table->leaves()) {
    EXPECT_TRUE(leaf.Matches(leaf.witness));
    EXPECT_EQ(p->Evaluate(leaf.witness), leaf.ret);
  }
}

TEST(BpfSymbolicTest, SolverFindsWitnessesAndProvesUnsat) {
  auto v = SolveWord({WordEq(0, 5, false), WordGe(0, 3), WordGe(0, 7, false)});
  ASSERT_TRUE(v.ok() && v->has_value());
  EXPECT_TRUE(**v == 3 || **v == 4 || **v == 6);
  auto none = SolveWord({WordGe(0, 3), WordGe(0, 4, false), WordEq(0, 3, false)});
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());
  auto masked = SolveWord({WordMaskedEq(0, 0xf0, 0x30), WordBitsSet(0, 0x1), WordGe(0, 0x100, false)});
  ASSERT_TRUE(masked.ok() && masked->has_value());
  EXPECT_EQ(**masked & 0xf1, 0x31u);
  auto bits = SolveWord({WordBitsSet(0, 0x6, false), WordBitsSet(0, 0x4)});
  ASSERT_TRUE(bits.ok());
  EXPECT_FALSE(bits->has_value());
}

TEST(BpfSymbolicTest, SolveInputKeepsEachWordsOrderAndJoinsBothLists) {
  // Constraints on three words, interleaved and split over both lists: the
  // input satisfies every one of them.
  const std::vector<WordConstraint> a = {WordEq(0, 7), WordGe(ArgLoWord(1), 100),
                                         WordEq(1, kAuditArchX86_64)};
  const std::vector<WordConstraint> b = {WordGe(ArgLoWord(1), 200, false),
                                         WordEq(ArgLoWord(1), 150, false)};
  auto in = SolveInput(a, b, {});
  ASSERT_TRUE(in.ok() && in->has_value()) << in.status();
  for (const auto* list : {&a, &b}) {
    for (const WordConstraint& c : *list) EXPECT_TRUE(c.Holds((*in)->w[c.word])) << c.ToString();
  }
  // The lists together are unsatisfiable though each alone is not.
  auto none = SolveInput({WordEq(0, 7)}, {WordEq(0, 8)}, {});
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());
  // A word outside seccomp_data is an error, not an out-of-bounds write.
  WordConstraint bad = WordEq(0, 1);
  bad.word = kSeccompWords;
  EXPECT_EQ(SolveInput({bad}).status().code(), absl::StatusCode::kInvalidArgument);
  // ...and so is a query about one.
  auto p = BpfProgram::Decode(LauncherFilter());
  ASSERT_TRUE(p.ok());
  auto table = DecisionTable::Build(*p);
  ASSERT_TRUE(table.ok());
  auto found = table->Find([](uint32_t) { return true; }, {bad});
  EXPECT_EQ(found.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(BpfSymbolicTest, PathBudgetIsAnExplicitError) {
  auto p = BpfProgram::Decode(LauncherFilter());
  ASSERT_TRUE(p.ok());
  auto table = DecisionTable::Build(*p, {.max_leaves = 10});
  EXPECT_EQ(table.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(table.status().message(), HasSubstr("too complex"));
}

TEST(BpfPropertiesTest, LauncherFilterSatisfiesEveryProperty) {
  auto p = BpfProgram::Decode(LauncherFilter());
  auto table = DecisionTable::Build(*p);
  ASSERT_TRUE(table.ok());
  FdSets fds{.readable = {0, 3}, .writable = {1, 2, 3}, .append = {2}, .exec_fd = 9};
  auto results = CheckLauncherProperties(*table, fds);
  ASSERT_TRUE(results.ok()) << results.status();
  EXPECT_GE(results->size(), 12u);
  for (const PropertyResult& r : *results) EXPECT_TRUE(r.holds) << r.id << ": " << r.detail;
}

TEST(BpfPropertiesTest, ExtraReadableFdIsCaughtAndKernelConfirmsCounterexample) {
  // The filter lets fd 3 be read; claim it is write-only.
  auto p = BpfProgram::Decode(LauncherFilter());
  auto table = DecisionTable::Build(*p);
  ASSERT_TRUE(table.ok());
  FdSets fds{.readable = {0}, .writable = {1, 2, 3}, .append = {2}, .exec_fd = 9};
  auto results = CheckLauncherProperties(*table, fds);
  ASSERT_TRUE(results.ok());
  const PropertyResult* failed = nullptr;
  for (const PropertyResult& r : *results) {
    if (r.id == "read-family-fds") failed = &r;
  }
  ASSERT_NE(failed, nullptr);
  ASSERT_FALSE(failed->holds);
  ASSERT_TRUE(failed->counterexample.has_value());
  EXPECT_EQ(failed->counterexample->w[ArgLoWord(0)], 3u);
  auto oracle = testing::KernelOracle::New(*p);
  auto kernel = oracle->Run({*failed->counterexample});
  ASSERT_TRUE(kernel.ok()) << kernel.status();
  ASSERT_TRUE((*kernel)[0].has_value());
  EXPECT_EQ(*(*kernel)[0], static_cast<uint32_t>(SECCOMP_RET_ALLOW));
}

}  // namespace
}  // namespace fdattest
