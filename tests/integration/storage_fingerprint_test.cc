// What the launcher's fingerprint shows about where a file lives, on the real
// kernel: a file in an fscrypt-encrypted directory (an ext4 image made with
// the `encrypt` feature, loop-mounted, its key added and its policy set by
// tools/fscrypt_dir.cc through the kernel's ioctls) carries that policy; the
// same bytes on the same ext4 outside the directory are persisted and not
// encrypted; on tmpfs they are not persisted, never encrypted. Needs root and
// a loop device; everything set up is torn down (key, mounts, loop device)
// whether the tests pass or not.
#include <fcntl.h>
#include <sys/mount.h>
#include <unistd.h>

#include <optional>
#include <string>
#include <vector>

#include "common/manifest.h"
#include "common/storage.h"
#include "common/unique_fd.h"
#include "gtest/gtest.h"
#include "common/fingerprint.h"
#include "tests/integration/launch_util.h"

namespace fdattest::integration {
namespace {

constexpr uint64_t kExtMagic = 0xef53;
constexpr char kFscryptDir[] = FDATTEST_FSCRYPT_DIR;

std::string Trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

// The three places a file can live, made once for the suite. Each step is
// undone in reverse by the destructor, only if it was done.
class StorageSandbox {
 public:
  StorageSandbox() = default;
  StorageSandbox(const StorageSandbox&) = delete;
  StorageSandbox& operator=(const StorageSandbox&) = delete;
  ~StorageSandbox() {
    if (!key_id_.empty()) {
      RunResult removed = RunProgram({kFscryptDir, "remove-key", ext4_, key_id_});
      if (removed.exit_code() != 0) ADD_FAILURE() << "fscrypt_dir remove-key: " << removed.err;
    }
    if (ext4_mounted_ && umount2(ext4_.c_str(), 0) != 0) {
      ADD_FAILURE() << "umount " << ext4_ << ": " << strerror(errno);
    }
    if (!loop_.empty()) {
      RunResult detached = RunProgram({"/usr/sbin/losetup", "-d", loop_});
      if (detached.exit_code() != 0) ADD_FAILURE() << "losetup -d " << loop_ << ": " << detached.err;
    }
    if (tmpfs_mounted_ && umount2(tmpfs_.c_str(), 0) != 0) {
      ADD_FAILURE() << "umount " << tmpfs_ << ": " << strerror(errno);
    }
  }

  // Returns what failed, or "" when every place is ready.
  std::string SetUp() {
    if (!dir_.ok()) return "no scratch directory";
    image_ = dir_.File("ext4.img");
    ext4_ = dir_.File("ext4");
    tmpfs_ = dir_.File("tmpfs");
    {
      UniqueFd img(open(image_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
      if (!img || ftruncate(img.get(), 32 << 20) != 0) return "cannot make the image file";
    }
    RunResult mkfs = RunProgram({"/usr/sbin/mkfs.ext4", "-q", "-F", "-O", "encrypt", image_});
    if (mkfs.exit_code() != 0) return "mkfs.ext4 -O encrypt failed: " + mkfs.err;
    RunResult losetup = RunProgram({"/usr/sbin/losetup", "--find", "--show", image_});
    if (losetup.exit_code() != 0) return "losetup failed: " + losetup.err;
    loop_ = Trim(losetup.out);
    if (mkdir(ext4_.c_str(), 0755) != 0 || mkdir(tmpfs_.c_str(), 0755) != 0) return "mkdir";
    if (mount(loop_.c_str(), ext4_.c_str(), "ext4", 0, nullptr) != 0) {
      return std::string("mount ext4: ") + strerror(errno);
    }
    ext4_mounted_ = true;
    if (mount("fdattest-storage-test", tmpfs_.c_str(), "tmpfs", 0, "size=1m,mode=0755") != 0) {
      return std::string("mount tmpfs: ") + strerror(errno);
    }
    tmpfs_mounted_ = true;
    std::string key(64, '\0');
    {
      UniqueFd random(open("/dev/urandom", O_RDONLY | O_CLOEXEC));
      if (!random || read(random.get(), key.data(), key.size()) != 64) return "no random key";
    }
    if (!WriteWholeFile(dir_.File("key"), key, 0600)) return "cannot write the key file";
    RunResult add = RunProgram({kFscryptDir, "add-key", ext4_, dir_.File("key")});
    unlink(dir_.File("key").c_str());
    if (add.exit_code() != 0) return "fscrypt_dir add-key failed: " + add.err;
    key_id_ = Trim(add.out);
    if (mkdir(Encrypted().c_str(), 0755) != 0 || mkdir(Plain().c_str(), 0755) != 0) {
      return "mkdir on ext4";
    }
    RunResult set = RunProgram({kFscryptDir, "set-policy", Encrypted(), key_id_});
    if (set.exit_code() != 0) return "fscrypt_dir set-policy failed: " + set.err;
    return "";
  }

  std::string Encrypted() const { return ext4_ + "/phi"; }
  std::string Plain() const { return ext4_ + "/plain"; }
  const std::string& Tmpfs() const { return tmpfs_; }
  const std::string& key_id() const { return key_id_; }

 private:
  TempDir dir_;
  std::string image_, ext4_, tmpfs_, loop_, key_id_;
  bool ext4_mounted_ = false, tmpfs_mounted_ = false;
};

class StorageFingerprintTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    sandbox_ = new StorageSandbox();
    setup_error_ = new std::string(sandbox_->SetUp());
  }
  static void TearDownTestSuite() {
    delete sandbox_;
    delete setup_error_;
    sandbox_ = nullptr;
  }
  void SetUp() override { ASSERT_EQ(*setup_error_, "") << "storage sandbox"; }

  // Writes the same bytes to `dir`/out.txt and fingerprints the open fd.
  static FdFingerprint FingerprintOutputIn(const std::string& dir) {
    const std::string path = dir + "/out.txt";
    UniqueFd fd(open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
    EXPECT_TRUE(fd) << path << ": " << strerror(errno);
    EXPECT_EQ(write(fd.get(), "MRN100001,checksum\n", 19), 19);
    absl::StatusOr<MountTable> mounts = MountTable::Load();
    EXPECT_TRUE(mounts.ok()) << mounts.status();
    absl::StatusOr<FdFingerprint> fp = FingerprintFd(fd.get(), *mounts, /*hash_content=*/false);
    EXPECT_TRUE(fp.ok()) << fp.status();
    return fp.ok() ? *fp : FdFingerprint{};
  }

  static StorageSandbox* sandbox_;
  static std::string* setup_error_;
};

StorageSandbox* StorageFingerprintTest::sandbox_ = nullptr;
std::string* StorageFingerprintTest::setup_error_ = nullptr;

TEST_F(StorageFingerprintTest, FileInAnFscryptDirectoryCarriesItsPolicy) {
  FdFingerprint fp = FingerprintOutputIn(sandbox_->Encrypted());
  ASSERT_TRUE(fp.storage.has_value());
  const StorageFingerprint& s = *fp.storage;
  EXPECT_EQ(s.fs_magic, kExtMagic);
  EXPECT_FALSE(IsMemoryOnlyFs(s.fs_magic));
  EXPECT_EQ(s.encryption, "fscrypt");
  ASSERT_TRUE(s.fscrypt.has_value());
  EXPECT_EQ(s.fscrypt->version, 2);
  EXPECT_EQ(s.fscrypt->contents_mode, 1u);   // AES-256-XTS
  EXPECT_EQ(s.fscrypt->filenames_mode, 4u);  // AES-256-CTS
  EXPECT_EQ(s.fscrypt->flags, 0x3u);         // 32-byte filename padding
  EXPECT_EQ(s.fscrypt->key, sandbox_->key_id());
  ASSERT_TRUE(fp.mount.has_value());
  EXPECT_EQ(fp.mount->fs_type, "ext4");
  EXPECT_EQ(DescribeStorage(s, fp.mount->fs_type),
            "ext4: fscrypt v2 AES-256-XTS/AES-256-CTS key " + sandbox_->key_id().substr(0, 16) +
                "…");
}

TEST_F(StorageFingerprintTest, TheEncryptedDirectoryItselfCarriesThePolicy) {
  UniqueFd dir(open(sandbox_->Encrypted().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  ASSERT_TRUE(dir);
  absl::StatusOr<MountTable> mounts = MountTable::Load();
  ASSERT_TRUE(mounts.ok());
  absl::StatusOr<FdFingerprint> fp = FingerprintFd(dir.get(), *mounts, false);
  ASSERT_TRUE(fp.ok()) << fp.status();
  EXPECT_EQ(fp->kind, "dir");
  ASSERT_TRUE(fp->storage.has_value() && fp->storage->fscrypt.has_value());
  EXPECT_EQ(fp->storage->fscrypt->key, sandbox_->key_id());
}

TEST_F(StorageFingerprintTest, SameFileOnPlainExt4IsPersistedAndNotEncrypted) {
  FdFingerprint fp = FingerprintOutputIn(sandbox_->Plain());
  ASSERT_TRUE(fp.storage.has_value());
  EXPECT_EQ(fp.storage->fs_magic, kExtMagic);
  EXPECT_EQ(fp.storage->encryption, "none");  // ENODATA: the fs supports fscrypt, this file has none
  EXPECT_FALSE(fp.storage->fscrypt.has_value());
  EXPECT_EQ(DescribeStorage(*fp.storage, fp.mount->fs_type), "ext4: persisted, not encrypted");
}

TEST_F(StorageFingerprintTest, SameFileOnTmpfsIsNotPersistedAndNeverEncrypted) {
  FdFingerprint fp = FingerprintOutputIn(sandbox_->Tmpfs());
  ASSERT_TRUE(fp.storage.has_value());
  EXPECT_TRUE(IsMemoryOnlyFs(fp.storage->fs_magic));
  EXPECT_NE(fp.storage->encryption, "fscrypt");
  EXPECT_FALSE(fp.storage->fscrypt.has_value());
  EXPECT_EQ(DescribeStorage(*fp.storage, fp.mount->fs_type), "tmpfs: not persisted");
}

// The same through fdlaunch: the measured manifest records the policy of the
// output's directory and none for the audit log beside it.
TEST_F(StorageFingerprintTest, LaunchManifestRecordsThePolicyOfEachFile) {
  TempDir dir;
  ASSERT_TRUE(dir.ok());
  const std::string input = dir.File("in.csv");
  ASSERT_TRUE(WriteWholeFile(input, "MRN100001,Patient 1\n"));
  const std::string output = sandbox_->Encrypted() + "/checksum.txt";
  const std::string audit = sandbox_->Plain() + "/audit.log";
  ASSERT_TRUE(WriteWholeFile(audit, "audit log opened\n"));
  Json profile = {
      {"version", 1},
      {"name", "storage-test"},
      {"on_violation", "errno"},
      {"fds",
       {{{"fd", 0}, {"role", "phi-input"}, {"access", "r"}, {"open", input}},
        {{"fd", 1}, {"role", "phi-output"}, {"access", "w"}, {"open", output}},
        {{"fd", 2}, {"role", "audit-log"}, {"access", "a"}, {"open", audit}}}}};
  ASSERT_TRUE(WriteWholeFile(dir.File("profile.json"), profile.dump(2)));
  RunResult r = RunFdlaunch({"--profile", dir.File("profile.json"), "--manifest-out",
                             dir.File("manifest.json"), "--", kBusybox, "sha256sum"});
  ASSERT_EQ(r.exit_code(), 0) << r.err;
  Json m = LoadJsonFile(dir.File("manifest.json"));
  const Json* out = FindFingerprint(m["fds"], 1);
  ASSERT_NE(out, nullptr);
  ASSERT_TRUE(out->contains("storage")) << out->dump();
  EXPECT_EQ((*out)["storage"]["fs_magic"], kExtMagic);
  EXPECT_EQ((*out)["storage"]["encryption"], "fscrypt");
  EXPECT_EQ((*out)["storage"]["fscrypt"]["version"], 2);
  EXPECT_EQ((*out)["storage"]["fscrypt"]["contents_mode"], 1);
  EXPECT_EQ((*out)["storage"]["fscrypt"]["filenames_mode"], 4);
  EXPECT_EQ((*out)["storage"]["fscrypt"]["master_key_identifier"], sandbox_->key_id());
  const Json* log = FindFingerprint(m["fds"], 2);
  ASSERT_NE(log, nullptr);
  EXPECT_EQ((*log)["storage"]["encryption"], "none");
  EXPECT_FALSE((*log)["storage"].contains("fscrypt"));
  const Json* in = FindFingerprint(m["fds"], 0);
  ASSERT_NE(in, nullptr);
  // The scratch directory's disk: not encrypted, whether or not its
  // filesystem has the encrypt feature ("none" or "unsupported").
  EXPECT_NE((*in)["storage"]["encryption"], "fscrypt");
  EXPECT_FALSE((*in)["storage"].contains("fscrypt"));
}

}  // namespace
}  // namespace fdattest::integration
