// The launcher's own proof of its filter: passes for what CompileFilter
// emits, and refuses a filter loosened by one instruction.
#include "launcher/self_check.h"

#include <linux/filter.h>
#include <linux/seccomp.h>

#include "common/bpf.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "launcher/filter.h"

namespace fdattest {
namespace {

using ::testing::HasSubstr;

FdSets Sets() { return {.readable = {0}, .writable = {1, 2}, .append = {2}, .exec_fd = 5}; }

std::string Compiled() {
  return *CompileFilter({.fds = {{0, Access::kRead}, {1, Access::kWrite}, {2, Access::kAppend}},
                         .exec_fd = 5});
}

TEST(SelfCheckTest, AcceptsTheCompiledFilter) { EXPECT_TRUE(SelfCheckFilter(Compiled(), Sets()).ok()); }

TEST(SelfCheckTest, RefusesAFilterWhoseDefaultBecameAllow) {
  auto program = BpfProgram::Decode(Compiled());
  ASSERT_TRUE(program.ok());
  std::string bytes = program->Encode();
  // Turn every ret ERRNO(EPERM) (the default) into ret ALLOW.
  int patched = 0;
  for (size_t i = 0; i < program->insns().size(); ++i) {
    const BpfInsn& in = program->insns()[i];
    if (in.code == (BPF_RET | BPF_K) && in.k == (SECCOMP_RET_ERRNO | 1)) {
      uint32_t allow = SECCOMP_RET_ALLOW;
      memcpy(&bytes[i * 8 + 4], &allow, 4);
      ++patched;
    }
  }
  ASSERT_GT(patched, 0);
  absl::Status s = SelfCheckFilter(bytes, Sets());
  EXPECT_EQ(s.code(), absl::StatusCode::kInternal);
  EXPECT_THAT(s.message(), HasSubstr("filter self-check failed: default-refuses"));
  EXPECT_THAT(s.message(), HasSubstr("counterexample"));
}

TEST(SelfCheckTest, RefusesWhenTheProfileDeclaresLessThanTheFilterAllows) {
  FdSets fewer = Sets();
  fewer.writable.erase(1);
  EXPECT_THAT(SelfCheckFilter(Compiled(), fewer).message(), HasSubstr("write-family-fds"));
}

TEST(SelfCheckTest, RefusesUndecodableBytes) {
  EXPECT_THAT(SelfCheckFilter("1234567", Sets()).message(), HasSubstr("self-check failed"));
}

}  // namespace
}  // namespace fdattest
