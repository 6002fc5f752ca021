// The offline verifier's state: nonces are single use and expire, counters
// are kept per attester, a damaged file is refused, and two openers
// serialise on the lock.
#include "verifier/state.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <linux/close_range.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <string>

#include "common/file_io.h"
#include "common/sha256.h"

namespace fdattest {
namespace {

class VerifierStateTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/fdattest-state-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    path_ = dir_ + "/state.json";
  }
  void TearDown() override {
    unlink(path_.c_str());
    unlink((path_ + ".lock").c_str());
    rmdir(dir_.c_str());
  }
  std::string dir_, path_;
};

TEST_F(VerifierStateTest, NonceIsSingleUse) {
  std::string nonce;
  {
    auto state = VerifierState::Open(path_);
    ASSERT_TRUE(state.ok()) << state.status();
    auto issued = state->IssueNonce(1000, 300);
    ASSERT_TRUE(issued.ok());
    nonce = *issued;
    EXPECT_EQ(nonce.size(), 32u);
    ASSERT_TRUE(state->Save(1000).ok());
  }
  struct stat st;
  ASSERT_EQ(stat(path_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  {
    auto state = VerifierState::Open(path_);
    ASSERT_TRUE(state.ok());
    EXPECT_TRUE(state->ConsumeNonce(nonce, 1100).ok());
    ASSERT_TRUE(state->Save(1100).ok());
  }
  auto state = VerifierState::Open(path_);
  ASSERT_TRUE(state.ok());
  absl::Status again = state->ConsumeNonce(nonce, 1101);
  EXPECT_EQ(again.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_NE(again.message().find("already used"), std::string::npos) << again;
}

TEST_F(VerifierStateTest, ExpiredNonceIsRefusedAndConsumed) {
  auto state = VerifierState::Open(path_);
  ASSERT_TRUE(state.ok());
  auto nonce = state->IssueNonce(1000, 10);
  ASSERT_TRUE(nonce.ok());
  absl::Status late = state->ConsumeNonce(*nonce, 1010);
  EXPECT_EQ(late.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_NE(late.message().find("expired"), std::string::npos) << late;
  EXPECT_FALSE(state->ConsumeNonce(*nonce, 1000).ok());
}

TEST_F(VerifierStateTest, UnknownNonceIsRefused) {
  auto state = VerifierState::Open(path_);
  ASSERT_TRUE(state.ok());
  ASSERT_TRUE(state->IssueNonce(1000, 300).ok());
  EXPECT_EQ(state->ConsumeNonce(std::string(32, 'x'), 1001).code(),
            absl::StatusCode::kPermissionDenied);
}

TEST_F(VerifierStateTest, CountersPersistPerAttester) {
  {
    auto state = VerifierState::Open(path_);
    ASSERT_TRUE(state.ok());
    EXPECT_FALSE(state->Counters("000b01").has_value());
    state->RecordCounters("000b01", {.clock = 77, .reset_count = 3, .restart_count = 1});
    ASSERT_TRUE(state->Save(1).ok());
  }
  auto state = VerifierState::Open(path_);
  ASSERT_TRUE(state.ok());
  auto c = state->Counters("000b01");
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->clock, 77u);
  EXPECT_EQ(c->reset_count, 3u);
  EXPECT_EQ(c->restart_count, 1u);
  EXPECT_FALSE(state->Counters("000b02").has_value());
}

TEST_F(VerifierStateTest, DamagedStateIsRefusedNotReplaced) {
  for (const char* text : {"{", "{\"version\":1}", "{\"version\":2,\"nonces\":{},\"attesters\":{}}",
                           "{\"version\":1,\"nonces\":{\"zz\":{\"expires_at\":1}},\"attesters\":{}}",
                           "{\"version\":1,\"nonces\":{},\"attesters\":{},\"extra\":1}"}) {
    ASSERT_TRUE(WriteFileAtomic(path_, text, 0600).ok());
    auto state = VerifierState::Open(path_);
    ASSERT_FALSE(state.ok()) << text;
    EXPECT_EQ(state.status().code(), absl::StatusCode::kDataLoss) << text;
    EXPECT_EQ(*ReadFileLimited(path_, 1024), text);
  }
}

TEST_F(VerifierStateTest, SecondOpenerWaitsForTheLock) {
  auto state = VerifierState::Open(path_);
  ASSERT_TRUE(state.ok());
  const auto start = std::chrono::steady_clock::now();
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    // The inherited descriptor shares the parent's locked file description:
    // drop it, or the lock would outlive the parent's release.
    close_range(3, ~0U, 0);
    auto second = VerifierState::Open(path_);
    _exit(second.ok() ? 0 : 1);
  }
  usleep(300 * 1000);
  int status = 0;
  EXPECT_EQ(waitpid(child, &status, WNOHANG), 0) << "the second opener did not wait";
  state = absl::InternalError("released");  // drops the lock
  ASSERT_EQ(waitpid(child, &status, 0), child);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(300));
}

}  // namespace
}  // namespace fdattest
