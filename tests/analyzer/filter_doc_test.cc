// docs/filter.md agrees with the filter: each row of its "Outcomes in errno
// mode" table is checked against the explanation of a launcher filter
// (phi-checksum: fd 0 r, 1 w, 2 a; exec fd 4). For every syscall the row
// names: "never" rows are never allowed, "always" rows always allowed, other
// rows allowed for some input (or, for close, answered 0), and the refusal
// the row names in its last column is the one the filter gives.
#include <linux/seccomp.h>

#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/bpf.h"
#include "common/bpf_explain.h"
#include "common/bpf_symbolic.h"
#include "common/file_io.h"
#include "common/syscall_names.h"
#include "gtest/gtest.h"
#include "launcher/filter.h"

namespace fdattest {
namespace {

constexpr uint32_t kAllow = SECCOMP_RET_ALLOW;
constexpr uint32_t kKill = SECCOMP_RET_KILL_PROCESS;

// The backticked words of a table cell that are syscall names.
std::vector<uint32_t> SyscallsIn(const std::string& cell) {
  std::vector<uint32_t> out;
  std::vector<std::string> parts = absl::StrSplit(cell, '`');
  for (size_t i = 1; i < parts.size(); i += 2) {
    for (absl::string_view word : absl::StrSplit(parts[i], ' ', absl::SkipEmpty())) {
      if (auto nr = SyscallNumber(word)) out.push_back(*nr);
    }
  }
  return out;
}

// The first errno name (E followed by capitals) of a cell, or "".
std::string ErrnoIn(const std::string& cell) {
  for (size_t i = 0; i + 1 < cell.size(); ++i) {
    if (cell[i] == 'E' && isupper(static_cast<unsigned char>(cell[i + 1])) &&
        (i == 0 || !isalnum(static_cast<unsigned char>(cell[i - 1])))) {
      size_t j = i + 1;
      while (j < cell.size() && isupper(static_cast<unsigned char>(cell[j]))) ++j;
      return cell.substr(i, j - i);
    }
  }
  return "";
}

uint32_t ErrnoRet(const std::string& name) {
  for (uint32_t e = 1; e < 200; ++e) {
    const char* n = strerrorname_np(static_cast<int>(e));
    if (n != nullptr && name == n) return SECCOMP_RET_ERRNO | e;
  }
  ADD_FAILURE() << "unknown errno " << name;
  return 0;
}

TEST(FilterDocTest, OutcomesTableAgreesWithTheFilter) {
  absl::StatusOr<std::string> doc =
      ReadFileLimited(std::string(FDATTEST_SOURCE_DIR) + "/docs/filter.md", 1 << 20);
  ASSERT_TRUE(doc.ok()) << doc.status();
  const std::string bpf = *CompileFilter(
      {.fds = {{0, Access::kRead}, {1, Access::kWrite}, {2, Access::kAppend}}, .exec_fd = 4});
  const BpfProgram program = *BpfProgram::Decode(bpf);
  const DecisionTable table = *DecisionTable::Build(program);
  absl::StatusOr<Explanation> e = Explain(program, table, {});
  ASSERT_TRUE(e.ok()) << e.status();
  std::map<uint32_t, std::set<uint32_t>> rets;
  for (const ExplainedSyscall& s : e->syscalls) rets[s.nr] = s.rets;

  const size_t start = doc->find("## Outcomes in `errno` mode");
  ASSERT_NE(start, std::string::npos);
  int rows = 0, checked = 0;
  for (const std::string& line :
       std::vector<std::string>(absl::StrSplit(doc->substr(start), '\n'))) {
    if ((line.rfind("## ", 0) == 0) && rows > 0) break;
    if (!(line.rfind("| ", 0) == 0) || (line.rfind("| syscall", 0) == 0) ||
        (line.rfind("|---", 0) == 0))
      continue;
    std::vector<std::string> cells = absl::StrSplit(line, " | ");
    ASSERT_GE(cells.size(), 3u) << line;
    const std::string& who = cells[0];
    const std::string& when = cells[1];
    const std::string& otherwise = cells[2];
    ++rows;
    SCOPED_TRACE(line);
    if (who.find("arch != AUDIT_ARCH_X86_64") != std::string::npos) {
      EXPECT_EQ(e->foreign_arch_rets, std::set<uint32_t>{kKill});
      ++checked;
      continue;
    }
    if (who.find("x32") != std::string::npos) {
      EXPECT_EQ(e->x32_rets, std::set<uint32_t>{kKill});
      ++checked;
      continue;
    }
    const std::string err = ErrnoIn(otherwise);
    for (uint32_t nr : SyscallsIn(who)) {
      SCOPED_TRACE(SyscallName(nr));
      const std::set<uint32_t>& r = rets[nr];
      ASSERT_FALSE(r.empty());
      if (when == "never") {
        EXPECT_FALSE(r.contains(kAllow)) << "the doc says never allowed";
      } else if (when == "always") {
        EXPECT_EQ(r, std::set<uint32_t>{kAllow}) << "the doc says always allowed";
      } else if (when.find("returns 0") != std::string::npos) {
        EXPECT_TRUE(r.contains(SECCOMP_RET_ERRNO)) << "the doc says it can return 0";
      } else {
        EXPECT_TRUE(r.contains(kAllow)) << "the doc says allowed when " << when;
      }
      if (!err.empty()) {
        std::set<uint32_t> refusals;
        for (uint32_t x : r) {
          if (x != kAllow && x != SECCOMP_RET_ERRNO) refusals.insert(x);
        }
        EXPECT_EQ(refusals, std::set<uint32_t>{ErrnoRet(err)}) << "the doc says otherwise " << err;
      }
      ++checked;
    }
  }
  EXPECT_GE(rows, 25);
  EXPECT_GE(checked, 50);  // the parser found the table (56 today)
}

}  // namespace
}  // namespace fdattest
