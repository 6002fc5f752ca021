// The decision table's word solver (common/bpf_symbolic.cc) on single masked
// comparisons, against ground truth: a comparison on `value & mask` depends
// only on which submask of `mask` the value has, so enumerating the submasks
// says exactly whether the constraint can hold. Find() must return a witness
// that satisfies it when it can, and nothing when it cannot.
#include <cstdint>
#include <string>
#include <vector>

#include "common/bpf.h"
#include "common/bpf_symbolic.h"
#include "gtest/gtest.h"

namespace fdattest {
namespace {

// Whether some value satisfies `c`: every submask of c.mask, as the masked value.
bool Satisfiable(const WordConstraint& c) {
  uint32_t sub = c.mask;
  for (;;) {
    if (c.Holds(sub)) return true;
    if (sub == 0) return false;
    sub = (sub - 1) & c.mask;
  }
}

std::string Describe(const WordConstraint& c) {
  static const char* const kOps[] = {"==", ">", ">=", "&"};
  char buf[96];
  snprintf(buf, sizeof buf, "%s(a0.lo32 & 0x%x) %s 0x%x", c.want ? "" : "not ", c.mask,
           kOps[static_cast<int>(c.op)], c.k);
  return buf;
}

TEST(WordSolverTest, MaskedComparisonsAreSolvedExactlyAsEnumerationSays) {
  // One instruction: ret ALLOW. Every input reaches it, so Find() answers
  // exactly whether the extra constraint is satisfiable.
  const std::string allow_all("\x06\x00\x00\x00\x00\x00\xff\x7f", 8);
  absl::StatusOr<BpfProgram> prog = BpfProgram::Decode(allow_all);
  ASSERT_TRUE(prog.ok()) << prog.status();
  absl::StatusOr<DecisionTable> table = DecisionTable::Build(*prog);
  ASSERT_TRUE(table.ok()) << table.status();

  const uint32_t masks[] = {0x80000000, 0xffff0000, 0xff, 0xf0, 0x1, 0x0, 0x00ff00ff, 0xffffffff};
  const uint32_t ks[] = {0, 1, 0x7f, 0x80, 0xf0, 0xff, 0x80000000, 0xffffff02, 0xffffffff};
  const CmpOp ops[] = {CmpOp::kEq, CmpOp::kGt, CmpOp::kGe, CmpOp::kSet};
  int checked = 0;
  for (uint32_t mask : masks) {
    for (uint32_t k : ks) {
      for (CmpOp op : ops) {
        for (bool want : {true, false}) {
          const WordConstraint c{.word = 4, .op = op, .mask = mask, .k = k, .want = want};
          absl::StatusOr<std::optional<DecisionTable::Witness>> found =
              table->Find([](uint32_t) { return true; }, {c});
          ASSERT_TRUE(found.ok()) << Describe(c) << ": " << found.status();
          const bool satisfiable = Satisfiable(c);
          ASSERT_EQ(found->has_value(), satisfiable) << Describe(c);
          if (found->has_value()) {
            EXPECT_TRUE(c.Holds((*found)->input.w[4])) << Describe(c) << ": witness a0.lo32 = 0x"
                                                       << std::hex << (*found)->input.w[4];
          }
          ++checked;
        }
      }
    }
  }
  EXPECT_EQ(checked, 8 * 9 * 4 * 2);
}

}  // namespace
}  // namespace fdattest
