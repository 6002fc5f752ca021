// The storage fingerprint's names are what reports show an auditor: memory-only
// filesystems are never called encrypted, and every fscrypt field seen is said.
#include "common/storage.h"

#include <gtest/gtest.h>

namespace fdattest {
namespace {

constexpr uint64_t kExt4 = 0xef53, kTmpfs = 0x01021994, kRamfs = 0x858458f6, kXfs = 0x58465342;

TEST(StorageTest, TmpfsRamfsAndHugetlbfsAreMemoryOnlyByMagic) {
  EXPECT_TRUE(IsMemoryOnlyFs(kTmpfs));
  EXPECT_TRUE(IsMemoryOnlyFs(kRamfs));
  EXPECT_TRUE(IsMemoryOnlyFs(0x958458f6));  // hugetlbfs
  EXPECT_FALSE(IsMemoryOnlyFs(kExt4));
  EXPECT_FALSE(IsMemoryOnlyFs(kXfs));
  EXPECT_FALSE(IsMemoryOnlyFs(0));
}

// Only filesystems known to keep their bytes are called persisted; pseudo and
// stacked filesystems whose backing is not seen are neither.
TEST(StorageTest, PersistenceIsClaimedOnlyForKnownDiskAndNetworkFilesystems) {
  EXPECT_EQ(PersistenceOfFs(kExt4), Persistence::kPersisted);
  EXPECT_EQ(PersistenceOfFs(kXfs), Persistence::kPersisted);
  EXPECT_EQ(PersistenceOfFs(0x6969), Persistence::kPersisted);  // nfs
  EXPECT_EQ(PersistenceOfFs(kTmpfs), Persistence::kMemoryOnly);
  EXPECT_EQ(PersistenceOfFs(0x9fa0), Persistence::kUnknown);      // proc
  EXPECT_EQ(PersistenceOfFs(0x794c7630), Persistence::kUnknown);  // overlay: upper may be tmpfs
  EXPECT_EQ(PersistenceOfFs(0x65735546), Persistence::kUnknown);  // fuse
  EXPECT_EQ(PersistenceOfFs(0x12345678), Persistence::kUnknown);
  EXPECT_EQ(DescribeStorage(StorageFingerprint{.fs_magic = 0x794c7630, .encryption = "unsupported"}),
            "overlay: persistence unknown, not encrypted (no fscrypt support)");
}

TEST(StorageTest, DescribesAnFscryptPolicyWithModesAndKey) {
  StorageFingerprint s{.fs_magic = kExt4,
                       .encryption = "fscrypt",
                       .fscrypt = FscryptPolicy{.version = 2, .contents_mode = 1,
                                                .filenames_mode = 4, .flags = 2,
                                                .key = "0123456789abcdef0123456789abcdef"}};
  EXPECT_EQ(DescribeStorage(s, "ext4"),
            "ext4: fscrypt v2 AES-256-XTS/AES-256-CTS key 0123456789abcdef…");
  EXPECT_EQ(DescribeStorage(s), "ext2/3/4: fscrypt v2 AES-256-XTS/AES-256-CTS key 0123456789abcdef…");
}

TEST(StorageTest, DescribesMemoryOnlyAsNotPersistedWhateverTheMountIsCalled) {
  StorageFingerprint s{.fs_magic = kTmpfs, .encryption = "unsupported"};
  EXPECT_EQ(DescribeStorage(s, "tmpfs"), "tmpfs: not persisted");
  EXPECT_EQ(DescribeStorage(StorageFingerprint{.fs_magic = kRamfs, .encryption = "none"}),
            "ramfs: not persisted");
}

TEST(StorageTest, DescribesAPersistedUnencryptedFile) {
  EXPECT_EQ(DescribeStorage(StorageFingerprint{.fs_magic = kExt4, .encryption = "none"}, "ext4"),
            "ext4: persisted, not encrypted");
  EXPECT_EQ(DescribeStorage(StorageFingerprint{.fs_magic = kXfs, .encryption = "unsupported"}),
            "xfs: persisted, not encrypted (no fscrypt support)");
  EXPECT_EQ(DescribeStorage(StorageFingerprint{.fs_magic = 0x1234, .encryption = "unknown"}),
            "fs 0x1234: persistence unknown, encryption unknown");
}

TEST(StorageTest, ModeNamesRoundTripAndUnknownModesAreNumbered) {
  for (uint32_t mode : {1u, 4u, 5u, 6u, 7u, 8u, 9u, 10u}) {
    EXPECT_EQ(FscryptModeFromName(FscryptModeName(mode)), mode);
  }
  EXPECT_EQ(FscryptModeName(99), "mode 99");
  EXPECT_FALSE(FscryptModeFromName("mode 99").has_value());
  EXPECT_FALSE(FscryptModeFromName("aes-256-xts").has_value());
}

}  // namespace
}  // namespace fdattest
