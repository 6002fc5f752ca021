// Secret fds: what the workload holds after a fill is a read-only description
// of a sealed memfd with exactly the secret, the only description of it left
// open; the kernel (not only the filter) refuses every change to it.
#include "launcher/secret_fd.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/storage.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "common/fingerprint.h"

namespace fdattest {
namespace {

using ::testing::HasSubstr;

// Declared numbers far above anything the test process holds.
constexpr int kKeyFd = 200;
constexpr int kTokenFd = 201;
constexpr int kAbove = 210;
constexpr char kSecret[] = "k3y\0with a NUL and \xff bytes";

Profile TwoSecrets() {
  absl::StatusOr<Profile> p = Profile::Parse(absl::StrCat(
      R"({"version":1,"name":"s","fds":[{"fd":)", kKeyFd,
      R"(,"role":"secret","access":"r","secret":"key"},{"fd":)", kTokenFd,
      R"(,"role":"api-token","access":"r","secret":"token"}]})"));
  EXPECT_TRUE(p.ok()) << p.status();
  return *std::move(p);
}

std::string ReadAll(int fd) {
  std::string out;
  char buf[256];
  ssize_t n;
  while ((n = read(fd, buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
  return out;
}

// How many descriptors of this process refer to the inode of `fd`.
int DescriptorsOf(int fd) {
  struct stat want {};
  if (fstat(fd, &want) != 0) return -1;
  int count = 0;
  DIR* dir = opendir("/proc/self/fd");
  while (dirent* e = readdir(dir)) {
    int n;
    struct stat st {};
    if (absl::SimpleAtoi(e->d_name, &n) && n != dirfd(dir) && fstat(n, &st) == 0 &&
        st.st_dev == want.st_dev && st.st_ino == want.st_ino) {
      ++count;
    }
  }
  closedir(dir);
  return count;
}

class SecretFdTest : public ::testing::Test {
 protected:
  void TearDown() override {
    CloseRawFd(kKeyFd);
    CloseRawFd(kTokenFd);
  }
  std::string secret_ = std::string(kSecret, sizeof(kSecret) - 1);
};

TEST_F(SecretFdTest, EstablishingPlacesAnEmptyReadOnlyMemfdForTheWorkload) {
  absl::StatusOr<PendingSecrets> pending = PendingSecrets::Establish(TwoSecrets(), kAbove);
  ASSERT_TRUE(pending.ok()) << pending.status();
  EXPECT_EQ(pending->names(), (std::vector<std::string>{"key", "token"}));
  for (int fd : {kKeyFd, kTokenFd}) {
    EXPECT_EQ(fcntl(fd, F_GETFD), 0) << "the declared fd survives the exec";
    EXPECT_EQ(fcntl(fd, F_GETFL) & O_ACCMODE, O_RDONLY);
    EXPECT_EQ(fcntl(fd, F_GET_SEALS), 0) << "a memfd that allows sealing, not sealed yet";
    // The declared description and the private writer: nothing else.
    EXPECT_EQ(DescriptorsOf(fd), 2);
  }
  // What step 7 measures is the workload's own description: a memory-only
  // file, read-only, empty.
  absl::StatusOr<MountTable> mounts = MountTable::Load();
  ASSERT_TRUE(mounts.ok());
  absl::StatusOr<FdFingerprint> fp = FingerprintFd(kKeyFd, *mounts, false);
  ASSERT_TRUE(fp.ok()) << fp.status();
  EXPECT_EQ(fp->kind, "file");
  EXPECT_EQ(fp->open_mode, "r");
  EXPECT_EQ(fp->stat.size, 0u);
  EXPECT_EQ(fp->memfd_seals, 0u);
  ASSERT_TRUE(fp->storage.has_value());
  EXPECT_TRUE(IsMemoryOnlyFs(fp->storage->fs_magic)) << fp->storage->fs_magic;
}

TEST_F(SecretFdTest, FillingWritesSealsAndLeavesOnlyTheReadOnlyDescription) {
  absl::StatusOr<PendingSecrets> pending = PendingSecrets::Establish(TwoSecrets(), kAbove);
  ASSERT_TRUE(pending.ok()) << pending.status();
  std::string plaintext = secret_;
  ASSERT_TRUE(pending->Fill("key", plaintext).ok());
  EXPECT_EQ(plaintext, std::string(secret_.size(), '\0')) << "the plaintext buffer is cleansed";
  EXPECT_EQ(ReadAll(kKeyFd), secret_);
  EXPECT_EQ(fcntl(kKeyFd, F_GET_SEALS), kSecretSeals);
  EXPECT_EQ(fcntl(kKeyFd, F_GETFL) & O_ACCMODE, O_RDONLY);
  EXPECT_EQ(DescriptorsOf(kKeyFd), 1) << "the private writer is closed";
  EXPECT_THAT(pending->CheckAllFilled().message(), HasSubstr("secret fd 201 (token) was not filled"));
  std::string token = "t";
  ASSERT_TRUE(pending->Fill("token", token).ok());
  EXPECT_TRUE(pending->CheckAllFilled().ok());
}

TEST_F(SecretFdTest, TheWorkloadCannotWriteGrowShrinkOrUnsealTheSecret) {
  absl::StatusOr<PendingSecrets> pending = PendingSecrets::Establish(TwoSecrets(), kAbove);
  ASSERT_TRUE(pending.ok()) << pending.status();
  std::string plaintext = secret_;
  ASSERT_TRUE(pending->Fill("key", plaintext).ok());

  // Through its own descriptor: read-only.
  EXPECT_EQ(write(kKeyFd, "x", 1), -1);
  EXPECT_EQ(errno, EBADF);
  EXPECT_EQ(pwrite(kKeyFd, "x", 1, 0), -1);
  EXPECT_EQ(ftruncate(kKeyFd, 0), -1);
  EXPECT_EQ(fcntl(kKeyFd, F_ADD_SEALS, F_SEAL_WRITE), -1);
  EXPECT_EQ(errno, EPERM) << "F_SEAL_SEAL: the seal set is final";

  // Even a writable description of the same memfd (what /proc/self/fd would
  // give without the empty root and the filter) changes nothing.
  UniqueFd rw(open(absl::StrCat("/proc/self/fd/", kKeyFd).c_str(), O_RDWR | O_CLOEXEC));
  ASSERT_TRUE(rw) << strerror(errno);
  EXPECT_EQ(write(rw.get(), "x", 1), -1);
  EXPECT_EQ(errno, EPERM);
  EXPECT_EQ(pwrite(rw.get(), "x", 1, static_cast<off_t>(secret_.size())), -1);
  EXPECT_EQ(errno, EPERM);
  EXPECT_EQ(ftruncate(rw.get(), 0), -1) << "shrink";
  EXPECT_EQ(errno, EPERM);
  EXPECT_EQ(ftruncate(rw.get(), 4096), -1) << "grow";
  EXPECT_EQ(errno, EPERM);
  EXPECT_EQ(fallocate(rw.get(), 0, 0, 8192), -1);
  EXPECT_EQ(errno, EPERM);
  EXPECT_EQ(mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, rw.get(), 0), MAP_FAILED);
  EXPECT_EQ(errno, EPERM);
  EXPECT_EQ(fcntl(rw.get(), F_ADD_SEALS, F_SEAL_FUTURE_WRITE), -1);
  EXPECT_EQ(errno, EPERM);
  EXPECT_EQ(fcntl(kKeyFd, F_GET_SEALS), kSecretSeals);
  EXPECT_EQ(ReadAll(rw.get()), secret_);
}

TEST_F(SecretFdTest, RefusesAnEmptySecretAnUnknownNameAndASecondFill) {
  absl::StatusOr<PendingSecrets> pending = PendingSecrets::Establish(TwoSecrets(), kAbove);
  ASSERT_TRUE(pending.ok()) << pending.status();
  std::string empty;
  absl::Status s = pending->Fill("key", empty);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("secret fd 200 (key): the released secret is empty"));
  EXPECT_EQ(fcntl(kKeyFd, F_GET_SEALS), 0) << "nothing sealed: the fd was not filled";

  std::string other = "x";
  s = pending->Fill("other", other);
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(s.message(), HasSubstr("\"other\" is not declared"));
  EXPECT_EQ(other, std::string(1, '\0')) << "cleansed even when refused";

  std::string once = "1";
  ASSERT_TRUE(pending->Fill("key", once).ok());
  std::string twice = "2";
  EXPECT_EQ(pending->Fill("key", twice).code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(ReadAll(kKeyFd), "1");
}

TEST_F(SecretFdTest, AnUnfilledSecretStaysEmptyAndItsWriterGoesWithThePendingSet) {
  {
    absl::StatusOr<PendingSecrets> pending = PendingSecrets::Establish(TwoSecrets(), kAbove);
    ASSERT_TRUE(pending.ok()) << pending.status();
    EXPECT_FALSE(pending->CheckAllFilled().ok());
  }
  EXPECT_EQ(DescriptorsOf(kKeyFd), 1);
  EXPECT_EQ(ReadAll(kKeyFd), "");
}

TEST_F(SecretFdTest, FillSecretFdRefusesADeclaredFdOfAnotherFile) {
  UniqueFd writer(memfd_create("w", MFD_CLOEXEC | MFD_ALLOW_SEALING));
  UniqueFd other(memfd_create("o", MFD_CLOEXEC | MFD_ALLOW_SEALING));
  ASSERT_TRUE(writer && other);
  UniqueFd other_ro(open(absl::StrCat("/proc/self/fd/", other.get()).c_str(), O_RDONLY | O_CLOEXEC));
  ASSERT_TRUE(other_ro);
  EXPECT_THAT(FillSecretFd(writer.get(), other_ro.get(), "s").message(),
              HasSubstr("is no longer the secret's memfd"));
  // A writable declared description is refused too.
  UniqueFd w2(memfd_create("w2", MFD_CLOEXEC | MFD_ALLOW_SEALING));
  UniqueFd w2_rw(open(absl::StrCat("/proc/self/fd/", w2.get()).c_str(), O_RDWR | O_CLOEXEC));
  EXPECT_THAT(FillSecretFd(w2.get(), w2_rw.get(), "s").message(), HasSubstr("is not read-only"));
}

}  // namespace
}  // namespace fdattest
