#include "launcher/fd_setup.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <optional>
#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace fdattest {
namespace {

using ::testing::HasSubstr;

// Declared numbers far above anything the test process holds.
constexpr int kFirst = 200;
constexpr int kSecond = 201;

class PendingFileChangesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (std::filesystem::temp_directory_path() / "fdsetup.XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override {
    CloseRawFd(kFirst);
    CloseRawFd(kSecond);
    std::filesystem::remove_all(dir_);
  }

  Profile TwoNewFiles() {
    absl::StatusOr<Profile> p = Profile::Parse(absl::StrCat(
        R"({"version":1,"name":"t","fds":[)", R"({"fd":)", kFirst,
        R"(,"role":"phi-output","access":"w","open":")", dir_, R"(/a.out"},)", R"({"fd":)",
        kSecond, R"(,"role":"audit-log","access":"a","open":")", dir_, R"(/b.log"}]})"));
    EXPECT_TRUE(p.ok()) << p.status();
    return *std::move(p);
  }
  std::optional<std::string> Read(const std::string& name) {
    FILE* f = fopen((dir_ + "/" + name).c_str(), "re");
    if (f == nullptr) return std::nullopt;
    std::string out;
    char buf[256];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0) out.append(buf, n);
    fclose(f);
    return out;
  }
  void Write(const std::string& name, const std::string& content) {
    FILE* f = fopen((dir_ + "/" + name).c_str(), "we");
    ASSERT_NE(f, nullptr);
    fputs(content.c_str(), f);
    fclose(f);
  }

  std::string dir_;
};

TEST_F(PendingFileChangesTest, EstablishingCreatesNothingAndHoldsTheNumbers) {
  Profile profile = TwoNewFiles();
  absl::StatusOr<PendingFileChanges> changes = EstablishDeclaredFds(profile);
  ASSERT_TRUE(changes.ok()) << changes.status();
  EXPECT_FALSE(Read("a.out").has_value());
  EXPECT_FALSE(Read("b.log").has_value());
  // The numbers hold a close-on-exec placeholder until Commit.
  EXPECT_EQ(fcntl(kFirst, F_GETFD), FD_CLOEXEC);
  ASSERT_TRUE(changes->Commit().ok());
  EXPECT_EQ(Read("a.out"), "");
  EXPECT_EQ(Read("b.log"), "");
  EXPECT_EQ(fcntl(kFirst, F_GETFD), 0);
  EXPECT_EQ(fcntl(kSecond, F_GETFL) & (O_ACCMODE | O_APPEND), O_WRONLY | O_APPEND);
  struct stat st {};
  ASSERT_EQ(stat((dir_ + "/a.out").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600u);
}

TEST_F(PendingFileChangesTest, AFileThatAppearsBeforeCommitIsNeitherOpenedNorRemoved) {
  // Someone else creates b.log between the checks and the commit: the
  // launch fails, removes the a.out it had just created, and leaves theirs.
  Profile profile = TwoNewFiles();
  absl::StatusOr<PendingFileChanges> changes = EstablishDeclaredFds(profile);
  ASSERT_TRUE(changes.ok()) << changes.status();
  Write("b.log", "theirs\n");
  absl::Status committed = changes->Commit();
  EXPECT_THAT(std::string(committed.message()), HasSubstr("cannot create " + dir_ + "/b.log"));
  EXPECT_FALSE(Read("a.out").has_value()) << "the file created before the failure stayed";
  EXPECT_EQ(Read("b.log"), "theirs\n");
}

TEST_F(PendingFileChangesTest, ACreatedFileReplacedSinceIsNotRemoved) {
  Profile profile = TwoNewFiles();
  {
    absl::StatusOr<PendingFileChanges> changes = EstablishDeclaredFds(profile);
    ASSERT_TRUE(changes.ok()) << changes.status();
    ASSERT_TRUE(changes->Commit().ok());
    // The launch fails after step 6, and a.out is meanwhile another file.
    ASSERT_EQ(unlink((dir_ + "/a.out").c_str()), 0);
    Write("a.out", "theirs\n");
  }
  EXPECT_EQ(Read("a.out"), "theirs\n");
  EXPECT_FALSE(Read("b.log").has_value()) << "the launch's own file stayed";
}

TEST_F(PendingFileChangesTest, OnlyWFilesAreTruncatedAndOnlyAtCommit) {
  Write("a.out", "old output\n");
  Write("b.log", "old entries\n");
  Profile profile = TwoNewFiles();
  absl::StatusOr<PendingFileChanges> changes = EstablishDeclaredFds(profile);
  ASSERT_TRUE(changes.ok()) << changes.status();
  EXPECT_EQ(Read("a.out"), "old output\n");
  ASSERT_TRUE(changes->Commit().ok());
  EXPECT_EQ(Read("a.out"), "");
  EXPECT_EQ(Read("b.log"), "old entries\n");
}

}  // namespace
}  // namespace fdattest
