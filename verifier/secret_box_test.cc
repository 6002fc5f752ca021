// SecretBox: sealed secrets open only under the same key and name, any
// changed byte is DataLoss, and key files are refused unless private and
// exactly 32 bytes.
#include "verifier/secret_box.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include "common/file_io.h"

namespace fdattest {
namespace {

class SecretBoxTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/fdattest-secretbox-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    key_path_ = dir_ + "/secrets.key";
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  SecretBox NewBox(const std::string& path) {
    EXPECT_TRUE(SecretBox::CreateKeyFile(path).ok());
    auto box = SecretBox::Open(path);
    EXPECT_TRUE(box.ok()) << box.status();
    return *box;
  }
  void WriteKeyFile(const std::string& path, const std::string& bytes, mode_t mode) {
    ASSERT_TRUE(WriteFileAtomic(path, bytes, 0600).ok());
    ASSERT_EQ(chmod(path.c_str(), mode), 0);
  }

  std::string dir_;
  std::string key_path_;
};

TEST_F(SecretBoxTest, SealedSecretOpensUnderItsName) {
  SecretBox box = NewBox(key_path_);
  for (std::string plaintext : {std::string(), std::string("phi key"), std::string(1 << 20, 'k'),
                                std::string("\0\xff\0", 3)}) {
    auto sealed = box.Seal("phi-key", plaintext);
    ASSERT_TRUE(sealed.ok()) << sealed.status();
    EXPECT_EQ(sealed->size(), 1 + 12 + plaintext.size() + 16);
    EXPECT_EQ((*sealed)[0], '\x01');
    if (plaintext.size() >= 8) {
      EXPECT_EQ(sealed->find(plaintext), std::string::npos);
    }
    auto opened = box.Open("phi-key", *sealed);
    ASSERT_TRUE(opened.ok()) << opened.status();
    EXPECT_EQ(*opened, plaintext);
  }
}

TEST_F(SecretBoxTest, EverySealUsesAFreshIv) {
  SecretBox box = NewBox(key_path_);
  auto a = box.Seal("s", "same");
  auto b = box.Seal("s", "same");
  EXPECT_NE(a->substr(1, 12), b->substr(1, 12));
  EXPECT_NE(*a, *b);
}

TEST_F(SecretBoxTest, AnyChangedByteIsDataLoss) {
  SecretBox box = NewBox(key_path_);
  const std::string sealed = *box.Seal("phi-key", "the value");
  for (size_t i = 0; i < sealed.size(); ++i) {
    for (unsigned char flip : {0x01, 0x80}) {
      std::string tampered = sealed;
      tampered[i] = static_cast<char>(tampered[i] ^ flip);
      EXPECT_EQ(box.Open("phi-key", tampered).status().code(), absl::StatusCode::kDataLoss)
          << "byte " << i;
    }
  }
  for (size_t len = 0; len < sealed.size(); ++len) {
    EXPECT_EQ(box.Open("phi-key", sealed.substr(0, len)).status().code(),
              absl::StatusCode::kDataLoss)
        << "truncated to " << len;
  }
  EXPECT_EQ(box.Open("phi-key", sealed + "x").status().code(), absl::StatusCode::kDataLoss);
}

TEST_F(SecretBoxTest, CiphertextMovedToAnotherNameIsDataLoss) {
  SecretBox box = NewBox(key_path_);
  const std::string sealed = *box.Seal("phi-key", "the value");
  EXPECT_EQ(box.Open("other-key", sealed).status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(box.Open("phi-ke", sealed).status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(box.Open(absl::string_view("phi-key\0", 8), sealed).status().code(),
            absl::StatusCode::kDataLoss);
}

TEST_F(SecretBoxTest, AnotherKeyCannotOpen) {
  SecretBox box = NewBox(key_path_);
  SecretBox other = NewBox(dir_ + "/other.key");
  EXPECT_EQ(other.Open("n", *box.Seal("n", "value")).status().code(), absl::StatusCode::kDataLoss);
}

TEST_F(SecretBoxTest, KeyFileSurvivesReopening) {
  SecretBox box = NewBox(key_path_);
  const std::string sealed = *box.Seal("n", "value");
  auto reopened = SecretBox::Open(key_path_);
  ASSERT_TRUE(reopened.ok());
  EXPECT_EQ(*reopened->Open("n", sealed), "value");
}

TEST_F(SecretBoxTest, CreatedKeyFileIsPrivateAndNeverOverwritten) {
  ASSERT_TRUE(SecretBox::CreateKeyFile(key_path_).ok());
  struct stat st;
  ASSERT_EQ(stat(key_path_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600);
  EXPECT_EQ(st.st_size, 32);
  auto before = ReadFileLimited(key_path_, 64);
  EXPECT_FALSE(SecretBox::CreateKeyFile(key_path_).ok());
  EXPECT_EQ(*ReadFileLimited(key_path_, 64), *before);
}

TEST_F(SecretBoxTest, RefusesKeyFilesOthersCanReadOrWrite) {
  for (mode_t mode : {0640, 0604, 0644, 0660, 0700, 0666, 0200}) {
    WriteKeyFile(key_path_, std::string(32, 'k'), mode);
    EXPECT_EQ(SecretBox::Open(key_path_).status().code(), absl::StatusCode::kFailedPrecondition)
        << std::oct << mode;
  }
  for (mode_t mode : {0600, 0400}) {
    WriteKeyFile(key_path_, std::string(32, 'k'), mode);
    EXPECT_TRUE(SecretBox::Open(key_path_).ok()) << std::oct << mode;
  }
}

TEST_F(SecretBoxTest, RefusesKeyFileOfAnotherUser) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root to chown";
  WriteKeyFile(key_path_, std::string(32, 'k'), 0600);
  ASSERT_EQ(chown(key_path_.c_str(), 4321, 4321), 0);
  EXPECT_EQ(SecretBox::Open(key_path_).status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST_F(SecretBoxTest, RefusesSymlinkedKeyFile) {
  WriteKeyFile(key_path_, std::string(32, 'k'), 0600);
  const std::string link = dir_ + "/link.key";
  ASSERT_EQ(symlink(key_path_.c_str(), link.c_str()), 0);
  EXPECT_EQ(SecretBox::Open(link).status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST_F(SecretBoxTest, RefusesKeyFileOfTheWrongSize) {
  for (size_t size : {0, 16, 31, 33, 64}) {
    WriteKeyFile(key_path_, std::string(size, 'k'), 0600);
    EXPECT_EQ(SecretBox::Open(key_path_).status().code(), absl::StatusCode::kInvalidArgument)
        << size;
  }
  EXPECT_FALSE(SecretBox::Open(dir_ + "/missing.key").ok());
  EXPECT_EQ(SecretBox::Open(dir_).status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST_F(SecretBoxTest, RefusesUnnamedOrOversizedSecrets) {
  SecretBox box = NewBox(key_path_);
  EXPECT_EQ(box.Seal("", "v").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(box.Seal("n", std::string((1 << 20) + 1, 'v')).status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace fdattest
