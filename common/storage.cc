#include "common/storage.h"

#include <array>
#include <utility>

#include "absl/strings/str_cat.h"

namespace fdattest {
namespace {

// statfs f_type values (linux/magic.h), spelled here so that the verifier,
// which may run on another kernel, names them the same.
constexpr uint64_t kTmpfsMagic = 0x01021994;
constexpr uint64_t kRamfsMagic = 0x858458f6;
constexpr uint64_t kHugetlbfsMagic = 0x958458f6;

struct FsKind {
  uint64_t magic;
  absl::string_view name;
  Persistence persistence;
};

constexpr std::array<FsKind, 27> kFsKinds = {{
    {kTmpfsMagic, "tmpfs", Persistence::kMemoryOnly},
    {kRamfsMagic, "ramfs", Persistence::kMemoryOnly},
    {kHugetlbfsMagic, "hugetlbfs", Persistence::kMemoryOnly},
    {0xef53, "ext2/3/4", Persistence::kPersisted},
    {0x58465342, "xfs", Persistence::kPersisted},
    {0x9123683e, "btrfs", Persistence::kPersisted},
    {0xf2f52010, "f2fs", Persistence::kPersisted},
    {0x2fc12fc1, "zfs", Persistence::kPersisted},
    {0xca451a4e, "bcachefs", Persistence::kPersisted},
    {0x24051905, "ubifs", Persistence::kPersisted},
    {0x3153464a, "jfs", Persistence::kPersisted},
    {0x52654973, "reiserfs", Persistence::kPersisted},
    {0x2011bab0, "exfat", Persistence::kPersisted},
    {0x4d44, "vfat", Persistence::kPersisted},
    {0x7366746e, "ntfs3", Persistence::kPersisted},
    {0x6969, "nfs", Persistence::kPersisted},
    {0xff534d42, "cifs", Persistence::kPersisted},
    {0xfe534d42, "smb2", Persistence::kPersisted},
    {0x00c36400, "ceph", Persistence::kPersisted},
    {0xf15f, "ecryptfs", Persistence::kPersisted},
    {0x65735546, "fuse", Persistence::kUnknown},
    {0x794c7630, "overlay", Persistence::kUnknown},
    {0x73717368, "squashfs", Persistence::kUnknown},
    {0x9fa0, "proc", Persistence::kUnknown},
    {0x62656572, "sysfs", Persistence::kUnknown},
    {0x1cd1, "devpts", Persistence::kUnknown},
    {0x50495045, "pipefs", Persistence::kUnknown},
}};

// FSCRYPT_MODE_* (linux/fscrypt.h).
constexpr std::array<std::pair<uint32_t, absl::string_view>, 8> kModeNames = {{
    {1, "AES-256-XTS"},
    {4, "AES-256-CTS"},
    {5, "AES-128-CBC"},
    {6, "AES-128-CTS"},
    {7, "SM4-XTS"},
    {8, "SM4-CTS"},
    {9, "Adiantum"},
    {10, "AES-256-HCTR2"},
}};

}  // namespace

Persistence PersistenceOfFs(uint64_t fs_magic) {
  for (const FsKind& k : kFsKinds) {
    if (k.magic == fs_magic) return k.persistence;
  }
  return Persistence::kUnknown;
}

bool IsMemoryOnlyFs(uint64_t fs_magic) {
  return PersistenceOfFs(fs_magic) == Persistence::kMemoryOnly;
}

std::string FsNameOfMagic(uint64_t fs_magic) {
  for (const FsKind& k : kFsKinds) {
    if (k.magic == fs_magic) return std::string(k.name);
  }
  return absl::StrCat("fs 0x", absl::Hex(fs_magic));
}

std::string FscryptModeName(uint32_t mode) {
  for (const auto& [value, name] : kModeNames) {
    if (value == mode) return std::string(name);
  }
  return absl::StrCat("mode ", mode);
}

std::optional<uint32_t> FscryptModeFromName(absl::string_view name) {
  for (const auto& [value, known] : kModeNames) {
    if (known == name) return value;
  }
  return std::nullopt;
}

std::string DescribeStorage(const StorageFingerprint& s, absl::string_view mount_fs_type) {
  const std::string fs =
      mount_fs_type.empty() ? FsNameOfMagic(s.fs_magic) : std::string(mount_fs_type);
  if (IsMemoryOnlyFs(s.fs_magic)) {
    // Memory-only is what decides; an encryption policy there (none exists
    // today) would not put the bytes at rest.
    return absl::StrCat(fs, ": not persisted");
  }
  if (s.encryption == kEncryptionFscrypt && s.fscrypt.has_value()) {
    const FscryptPolicy& p = *s.fscrypt;
    return absl::StrCat(fs, ": fscrypt v", p.version, " ", FscryptModeName(p.contents_mode), "/",
                        FscryptModeName(p.filenames_mode), " key ", p.key.substr(0, 16),
                        p.key.size() > 16 ? "…" : "");
  }
  const absl::string_view persisted = PersistenceOfFs(s.fs_magic) == Persistence::kPersisted
                                          ? "persisted"
                                          : "persistence unknown";
  if (s.encryption == kEncryptionNone) return absl::StrCat(fs, ": ", persisted, ", not encrypted");
  if (s.encryption == kEncryptionUnsupported) {
    return absl::StrCat(fs, ": ", persisted, ", not encrypted (no fscrypt support)");
  }
  return absl::StrCat(fs, ": ", persisted, ", encryption unknown");
}

}  // namespace fdattest
