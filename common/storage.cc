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

constexpr std::array<std::pair<uint64_t, absl::string_view>, 12> kFsNames = {{
    {0xef53, "ext2/3/4"},
    {kTmpfsMagic, "tmpfs"},
    {kRamfsMagic, "ramfs"},
    {0x58465342, "xfs"},
    {0x9123683e, "btrfs"},
    {0xf2f52010, "f2fs"},
    {0xf15f, "ecryptfs"},
    {0x65735546, "fuse"},
    {0x794c7630, "overlay"},
    {0x6969, "nfs"},
    {0xff534d42, "cifs"},
    {0x73717368, "squashfs"},
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

bool IsMemoryOnlyFs(uint64_t fs_magic) {
  return fs_magic == kTmpfsMagic || fs_magic == kRamfsMagic;
}

std::string FsNameOfMagic(uint64_t fs_magic) {
  for (const auto& [magic, name] : kFsNames) {
    if (magic == fs_magic) return std::string(name);
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
  if (s.encryption == kEncryptionNone) return absl::StrCat(fs, ": persisted, not encrypted");
  if (s.encryption == kEncryptionUnsupported) {
    return absl::StrCat(fs, ": persisted, not encrypted (no fscrypt support)");
  }
  return absl::StrCat(fs, ": persisted, encryption unknown");
}

}  // namespace fdattest
