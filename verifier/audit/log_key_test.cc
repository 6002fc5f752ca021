// fdverifierd's reading of the log key and witness keys: a private PEM with
// its .vkey beside it, refused when others can read it, when it is a symlink
// or when the two files are not one key pair.
#include "verifier/audit/log_key.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

namespace fdattest {
namespace {

class LogKeyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/fdattest-logkey-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  void Write(const std::string& path, const std::string& text, mode_t mode) {
    std::ofstream(path) << text;
    ASSERT_EQ(chmod(path.c_str(), mode), 0);
  }
  // A log key pair as `fdattest key log` writes it.
  std::string MakeLogKey(const std::string& name, const std::string& origin) {
    absl::StatusOr<NoteSigner> signer = NoteSigner::Generate(origin);
    EXPECT_TRUE(signer.ok()) << signer.status();
    const std::string path = dir_ + "/" + name;
    Write(path, signer->PrivateKeyPem(), 0600);
    Write(path + ".vkey", signer->VerifierKey() + "\n", 0644);
    return path;
  }

  std::string dir_;
};

TEST_F(LogKeyTest, LoadsTheKeyNamedByItsVkey) {
  const std::string path = MakeLogKey("log.key", "verifier.example/audit");
  absl::StatusOr<NoteSigner> signer = LoadLogSigner(path);
  ASSERT_TRUE(signer.ok()) << signer.status();
  EXPECT_EQ(signer->name(), "verifier.example/audit");
  std::ifstream vkey(path + ".vkey");
  std::string line;
  std::getline(vkey, line);
  EXPECT_EQ(signer->VerifierKey(), line);
}

TEST_F(LogKeyTest, RefusesAKeyOthersCanReadOrASymlink) {
  const std::string path = MakeLogKey("log.key", "log");
  ASSERT_EQ(chmod(path.c_str(), 0640), 0);
  EXPECT_EQ(LoadLogSigner(path).status().code(), absl::StatusCode::kFailedPrecondition);
  ASSERT_EQ(chmod(path.c_str(), 0600), 0);
  const std::string link = dir_ + "/link.key";
  ASSERT_EQ(symlink(path.c_str(), link.c_str()), 0);
  std::filesystem::copy_file(path + ".vkey", link + ".vkey");
  EXPECT_FALSE(LoadLogSigner(link).ok());
  EXPECT_TRUE(LoadLogSigner(path).ok());
}

TEST_F(LogKeyTest, RefusesAVkeyOfAnotherKey) {
  const std::string a = MakeLogKey("a.key", "log");
  const std::string b = MakeLogKey("b.key", "log");
  std::filesystem::copy_file(b + ".vkey", a + ".vkey",
                             std::filesystem::copy_options::overwrite_existing);
  absl::StatusOr<NoteSigner> signer = LoadLogSigner(a);
  EXPECT_EQ(signer.status().code(), absl::StatusCode::kInvalidArgument);
  std::filesystem::remove(b + ".vkey");
  EXPECT_FALSE(LoadLogSigner(b).ok());  // no vkey: no origin
}

TEST_F(LogKeyTest, WitnessKeysAreCosignatureKeysOnly) {
  absl::StatusOr<CosignatureSigner> witness = CosignatureSigner::Generate("witness.example");
  ASSERT_TRUE(witness.ok());
  Write(dir_ + "/w.vkey", witness->VerifierKey() + "\n", 0644);
  absl::StatusOr<NoteVerifier> key = LoadWitnessKey(dir_ + "/w.vkey");
  ASSERT_TRUE(key.ok()) << key.status();
  EXPECT_EQ(key->name(), "witness.example");
  const std::string log = MakeLogKey("log.key", "log");
  EXPECT_FALSE(LoadWitnessKey(log + ".vkey").ok());
  Write(dir_ + "/junk.vkey", "not a key\n", 0644);
  EXPECT_FALSE(LoadWitnessKey(dir_ + "/junk.vkey").ok());
}

}  // namespace
}  // namespace fdattest
