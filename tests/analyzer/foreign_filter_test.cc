// `bpf explain` on the launcher's filter and on filters the project did not
// generate (tests/analyzer/foreign/*.bpf, dumped from real programs, and the
// synthetic shapes of tests/analyzer/synthetic_filters.h): each explained in
// under 1 s, its text equal to tests/analyzer/golden/<name>.explain.txt, and
// every per-syscall rule and the x32, foreign-architecture and "unnamed
// syscall numbers" lines checked against the emulator (BpfProgram::Evaluate)
// on inputs at the boundaries of every constant in the program.
// FDATTEST_UPDATE_GOLDEN=1 rewrites the golden files instead of comparing.
#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/syscall.h>

#include <chrono>
#include <filesystem>
#include <optional>
#include <random>
#include <set>

#include "common/bpf.h"
#include "common/bpf_explain.h"
#include "common/bpf_symbolic.h"
#include "common/file_io.h"
#include "common/syscall_names.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "launcher/filter.h"
#include "tests/analyzer/synthetic_filters.h"

namespace fdattest {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::Not;

// Time budgets hold for an optimised build; a sanitizer or unoptimised build
// (how `make test` runs unit tests) gets ten times as long.
#if defined(__SANITIZE_ADDRESS__) || !defined(NDEBUG)
constexpr double kTimeScale = 10;
#else
constexpr double kTimeScale = 1;
#endif

const fs::path kAnalyzerDir = fs::path(FDATTEST_SOURCE_DIR) / "tests" / "analyzer";

// The launch the launcher fixture comes from (tests/analyzer/launcher/).
ExplainContext PhiChecksumContext() {
  return {.fds = {{0, "phi-input", "r"}, {1, "phi-output", "w"}, {2, "audit-log", "a"}},
          .exec_fd = 4};
}
FilterSpec PhiChecksumSpec() {
  return {.fds = {{0, Access::kRead}, {1, Access::kWrite}, {2, Access::kAppend}}, .exec_fd = 4};
}

struct Explained {
  BpfProgram program;
  Explanation explanation;
  double seconds;
};

// The explanation, or a test failure and nullopt.
std::optional<Explained> ExplainBytes(const std::string& bytes, const ExplainContext& ctx) {
  const auto start = std::chrono::steady_clock::now();
  absl::StatusOr<BpfProgram> program = BpfProgram::Decode(bytes);
  if (!program.ok()) {
    ADD_FAILURE() << program.status();
    return std::nullopt;
  }
  absl::StatusOr<DecisionTable> table = DecisionTable::Build(*program);
  if (!table.ok()) {
    ADD_FAILURE() << table.status();
    return std::nullopt;
  }
  absl::StatusOr<Explanation> e = Explain(*program, *table, ctx);
  if (!e.ok()) {
    ADD_FAILURE() << e.status();
    return std::nullopt;
  }
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return Explained{*std::move(program), *std::move(e), s};
}

// Values at the boundaries of every constant the program compares or masks
// with, and the extremes.
std::vector<uint32_t> BoundaryValues(const BpfProgram& p) {
  std::set<uint32_t> v = {0, 1, 2, 3, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff};
  for (const BpfInsn& in : p.insns()) {
    if (BPF_CLASS(in.code) != BPF_JMP && BPF_CLASS(in.code) != BPF_ALU) continue;
    for (uint32_t x : {in.k - 1, in.k, in.k + 1, ~in.k, in.k & (in.k - 1)}) v.insert(x);
    for (uint32_t bit = 1; bit != 0; bit <<= 1) {
      if (in.k & bit) v.insert(bit);
    }
  }
  return {v.begin(), v.end()};
}

// Every claim checked on concrete inputs: per syscall, the first rule that
// holds gives the emulator's answer; the other lines name a superset.
void CheckAgainstEmulator(const std::string& name, const Explained& x) {
  const BpfProgram& p = x.program;
  const Explanation& e = x.explanation;
  const std::vector<uint32_t> values = BoundaryValues(p);
  std::mt19937_64 rng(7);
  auto pick = [&] { return values[rng() % values.size()]; };
  std::set<uint32_t> explained;
  int checked = 0;
  for (const ExplainedSyscall& s : e.syscalls) {
    explained.insert(s.nr);
    std::vector<SeccompInput> inputs;
    SeccompInput base;
    base.w[0] = s.nr;
    base.w[1] = kAuditArchX86_64;
    inputs.push_back(base);
    // One argument word at a time: every boundary value on the words the
    // rules test, a few on the others (the rules say they do not matter).
    std::set<int> tested;
    for (const ExplainedRule& r : s.rules) {
      for (const Conjunction& c : r.when) {
        for (const auto& [word, cond] : c) tested.insert(word);
      }
    }
    for (int w = 4; w < kSeccompWords; ++w) {
      for (size_t i = 0; i < values.size(); i += tested.contains(w) ? 1 : values.size() / 8 + 1) {
        const uint32_t v = values[i];
        SeccompInput in = base;
        in.w[w] = v;
        inputs.push_back(in);
      }
    }
    for (int i = 0; i < 300; ++i) {  // and mixes of them
      SeccompInput in = base;
      for (int w = 4; w < kSeccompWords; ++w) in.w[w] = rng() % 3 == 0 ? pick() : 0;
      inputs.push_back(in);
    }
    for (const SeccompInput& in : inputs) {
      ASSERT_EQ(p.Evaluate(in), s.RetFor(in)) << name << ": " << s.name << " " << in.DebugString();
      ++checked;
    }
  }
  auto expect_in = [&](const std::set<uint32_t>& claimed, const SeccompInput& in,
                       const char* line) {
    EXPECT_TRUE(claimed.contains(p.Evaluate(in)))
        << name << ": the " << line << " line misses " << DescribeRet(p.Evaluate(in)) << " for "
        << in.DebugString();
    ++checked;
  };
  std::set<uint32_t> defaults;
  for (const auto& [ret, nr] : e.default_rets) defaults.insert(ret);
  std::vector<uint32_t> numbers;
  for (uint32_t nr = 0; nr < 2048; ++nr) numbers.push_back(nr);
  for (uint32_t v : values) numbers.push_back(v);
  for (uint32_t nr : numbers) {
    SeccompInput in;
    in.w[0] = nr;
    in.w[1] = kAuditArchX86_64;
    for (int w = 4; w < kSeccompWords; ++w) in.w[w] = rng() % 2 ? pick() : 0;
    if (nr >= kX32SyscallBit && nr != 0xffffffff) {
      expect_in(e.x32_rets, in, "x32");
    } else if (nr < kX32SyscallBit && !explained.contains(nr)) {
      expect_in(defaults, in, "unnamed syscall numbers");
    }
    for (uint32_t arch : {kAuditArchI386, 0xc00000b7u /* aarch64 */, 0u, kAuditArchX86_64 ^ 1}) {
      in.w[1] = arch;
      expect_in(e.foreign_arch_rets, in, "other architectures");
    }
  }
  EXPECT_GT(checked, 1000) << name;
}

void CompareGolden(const std::string& name, const std::string& text) {
  const fs::path golden = kAnalyzerDir / "golden" / (name + ".explain.txt");
  if (getenv("FDATTEST_UPDATE_GOLDEN") != nullptr) {
    fs::create_directories(golden.parent_path());
    ASSERT_TRUE(WriteFileAtomic(golden.string(), text).ok());
    return;
  }
  absl::StatusOr<std::string> want = ReadFileLimited(golden.string(), 1 << 20);
  ASSERT_TRUE(want.ok()) << golden << ": " << want.status()
                         << " (FDATTEST_UPDATE_GOLDEN=1 writes it)";
  EXPECT_EQ(text, *want) << "explanation of " << name << " differs from " << golden;
}

void ExplainChecked(const std::string& name, const std::string& bytes, const ExplainContext& ctx) {
  SCOPED_TRACE(name);
  std::optional<Explained> explained = ExplainBytes(bytes, ctx);
  ASSERT_TRUE(explained.has_value());
  const Explained& x = *explained;
  EXPECT_LT(x.seconds, 1.0 * kTimeScale) << name;
  CompareGolden(name, x.explanation.ToText());
  CheckAgainstEmulator(name, x);
}

TEST(ExplainGoldenTest, LauncherFilter) {
  absl::StatusOr<std::string> bytes =
      ReadFileLimited((kAnalyzerDir / "launcher" / "phi-checksum.bpf").string(), 1 << 16);
  ASSERT_TRUE(bytes.ok()) << bytes.status();
  ExplainChecked("launcher-phi-checksum", *bytes, PhiChecksumContext());
}

// The fixture is what the launcher compiles today: a fresh compile of the
// same profile reads the same, apart from its size and digest.
TEST(ExplainGoldenTest, LauncherFixtureIsCurrent) {
  absl::StatusOr<std::string> fixture =
      ReadFileLimited((kAnalyzerDir / "launcher" / "phi-checksum.bpf").string(), 1 << 16);
  ASSERT_TRUE(fixture.ok());
  absl::StatusOr<std::string> fresh = CompileFilter(PhiChecksumSpec());
  ASSERT_TRUE(fresh.ok());
  auto body = [](const std::string& bytes) {
    std::optional<Explained> x = ExplainBytes(bytes, PhiChecksumContext());
    if (!x) return std::string("(not explained)");
    std::string text = x->explanation.ToText();
    return text.substr(text.find('\n'));  // after the line naming size and digest
  };
  EXPECT_EQ(body(*fresh), body(*fixture));
}

TEST(ExplainGoldenTest, SyntheticForeignFilters) {
  for (const auto& [name, bytes] : testing::SyntheticFilters()) ExplainChecked(name, bytes, {});
}

TEST(ExplainGoldenTest, DumpedForeignFilters) {
  const fs::path dir = kAnalyzerDir / "foreign";
  if (!fs::exists(dir)) GTEST_SKIP() << dir << " holds no dumps";
  int n = 0;
  for (const fs::directory_entry& f : fs::directory_iterator(dir)) {
    if (f.path().extension() != ".bpf") continue;
    absl::StatusOr<std::string> bytes = ReadFileLimited(f.path().string(), 1 << 20);
    ASSERT_TRUE(bytes.ok()) << bytes.status();
    ExplainChecked(f.path().stem().string(), *bytes, {});
    ++n;
  }
  if (n == 0) GTEST_SKIP() << dir << " holds no dumps";
}

TEST(ExplainTest, RangeDispatchDefaultSaysOnlyTrap) {
  std::optional<Explained> x = ExplainBytes(testing::RangeDispatchTrapFilter(), {});
  ASSERT_TRUE(x.has_value());
  ASSERT_EQ(x->explanation.default_rets.size(), 1u);
  EXPECT_EQ(x->explanation.default_rets.begin()->first, static_cast<uint32_t>(SECCOMP_RET_TRAP));
  const std::string text = x->explanation.ToText();
  EXPECT_THAT(text, HasSubstr("unnamed syscall numbers: TRAP (SIGSYS)\n"));
  // It restricts no fd: one line says so, no list of numbers.
  EXPECT_THAT(text, HasSubstr("file descriptors: not restricted"));
  EXPECT_THAT(text, Not(HasSubstr("NOT EXACT")));
  EXPECT_THAT(text, HasSubstr("EACCES: open openat\n"));
}

TEST(ExplainTest, FdRestrictionsReadAsExactRanges) {
  std::optional<Explained> x = ExplainBytes(testing::FdRangesFilter(), {});
  ASSERT_TRUE(x.has_value());
  const std::string text = x->explanation.ToText();
  EXPECT_THAT(text, HasSubstr("file descriptors each fd-taking syscall can be allowed on:\n"));
  EXPECT_THAT(text, HasSubstr("    0: read\n"));
  EXPECT_THAT(text, HasSubstr("    1–2, 10–19: write\n"));
  EXPECT_THAT(text, HasSubstr("    any fd: fstat\n"));
  EXPECT_THAT(text, HasSubstr("    depends on bits of the fd (see its rules): ioctl\n"));
}

TEST(ExplainTest, SingleBitChainsAreLinear) {
  for (int bits : {13, 17, 24}) {
    std::optional<Explained> x = ExplainBytes(testing::CloneFlagChainFilter(bits), {});
    ASSERT_TRUE(x.has_value()) << bits << " clone flag tests";
    EXPECT_LT(x->seconds, 0.5 * kTimeScale) << bits << " clone flag tests";
  }
  std::optional<Explained> x = ExplainBytes(testing::JsetChainFilter(32), {});
  ASSERT_TRUE(x.has_value());
  EXPECT_LT(x->seconds, 0.1 * kTimeScale) << "32 single-bit tests";
  const ExplainedSyscall* ioctl = nullptr;
  for (const ExplainedSyscall& s : x->explanation.syscalls) {
    if (s.nr == SYS_ioctl) ioctl = &s;
  }
  ASSERT_NE(ioctl, nullptr);
  // ALLOW only when none of the 32 bits is set: cmd 0.
  SeccompInput in;
  in.w[0] = SYS_ioctl;
  in.w[1] = kAuditArchX86_64;
  EXPECT_EQ(ioctl->RetFor(in), static_cast<uint32_t>(SECCOMP_RET_ALLOW));
  in.w[ArgLoWord(1)] = 1;
  EXPECT_EQ(ioctl->RetFor(in), static_cast<uint32_t>(SECCOMP_RET_ERRNO | EPERM));
}

TEST(ExplainTest, LauncherFilterNamesRolesErrnosAndTheExecFd) {
  std::optional<Explained> x =
      ExplainBytes(*CompileFilter(PhiChecksumSpec()), PhiChecksumContext());
  ASSERT_TRUE(x.has_value());
  const std::string text = x->explanation.ToText();
  EXPECT_EQ(text.rfind("Summary", 0), 0u) << "the summary comes first";
  EXPECT_THAT(text, HasSubstr("  fd 1 phi-output (w): write"));
  EXPECT_THAT(text, HasSubstr("fd 4: the exec fd"));
  EXPECT_THAT(text, HasSubstr("any other fd: no fd-taking syscall is allowed on it"));
  EXPECT_THAT(text, HasSubstr("otherwise EBADF"));
  EXPECT_THAT(text, Not(HasSubstr("ERRNO(")));
  EXPECT_THAT(text, HasSubstr("Terms\n  paths:"));
  EXPECT_THAT(text, HasSubstr("ENOENT: readlink readlinkat"));
}

}  // namespace
}  // namespace fdattest
