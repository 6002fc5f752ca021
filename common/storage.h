// What the kernel shows about where a file lives, as the manifest records it
// (docs/formats/manifest.md, "storage"): the filesystem's statfs magic and the
// file's fscrypt policy from FS_IOC_GET_ENCRYPTION_POLICY_EX. Plain values and
// pure functions that name them; thread-safe.
#ifndef FDATTEST_COMMON_STORAGE_H_
#define FDATTEST_COMMON_STORAGE_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/strings/string_view.h"

namespace fdattest {

// An fscrypt policy as the kernel returns it (struct fscrypt_policy_v1/v2).
struct FscryptPolicy {
  int version = 0;                // 1 or 2
  uint32_t contents_mode = 0;     // FSCRYPT_MODE_*
  uint32_t filenames_mode = 0;    // FSCRYPT_MODE_*
  uint32_t flags = 0;             // FSCRYPT_POLICY_FLAG*
  std::string key;                // hex: v1 master_key_descriptor (16), v2 master_key_identifier (32)
};

// What FS_IOC_GET_ENCRYPTION_POLICY_EX answered on the descriptor.
inline constexpr absl::string_view kEncryptionFscrypt = "fscrypt";          // a policy: `fscrypt`
inline constexpr absl::string_view kEncryptionNone = "none";                // ENODATA
inline constexpr absl::string_view kEncryptionUnsupported = "unsupported";  // EOPNOTSUPP, ENOTTY
inline constexpr absl::string_view kEncryptionUnknown = "unknown";          // any other error

struct StorageFingerprint {
  uint64_t fs_magic = 0;   // fstatfs f_type
  std::string encryption;  // one of the kEncryption* values
  std::optional<FscryptPolicy> fscrypt;  // exactly when encryption is "fscrypt"
};

// What a filesystem's magic says about its bytes surviving unmount and reboot.
enum class Persistence {
  kMemoryOnly,  // tmpfs, ramfs, hugetlbfs: gone at unmount or reboot
  kPersisted,   // a disk or network filesystem the project names (ext4, xfs, btrfs, nfs, ...)
  kUnknown,     // anything else (proc, overlay, fuse, ...): neither claim is made
};
Persistence PersistenceOfFs(uint64_t fs_magic);

// tmpfs, ramfs and hugetlbfs (by magic, never by mount name): the file's
// bytes live in memory only and are gone at unmount or reboot.
bool IsMemoryOnlyFs(uint64_t fs_magic);

// "ext4", "tmpfs", ... for the magics the project names, else "fs 0x1234abcd".
std::string FsNameOfMagic(uint64_t fs_magic);

// "AES-256-XTS", ... for FSCRYPT_MODE_* values, else "mode 99".
std::string FscryptModeName(uint32_t mode);
// The FSCRYPT_MODE_* value of a name FscryptModeName gives, if it is known.
std::optional<uint32_t> FscryptModeFromName(absl::string_view name);

// One line of what was seen: "ext4: fscrypt v2 AES-256-XTS/AES-256-CTS key
// 0123…", "tmpfs: not persisted", "ext4: persisted, not encrypted", "proc:
// persistence unknown, not encrypted". The
// filesystem is named by `mount_fs_type` (the mount table's name) when given,
// else by its magic; what the line says about it comes from the magic and
// the fscrypt answer only.
std::string DescribeStorage(const StorageFingerprint& s, absl::string_view mount_fs_type = "");

}  // namespace fdattest

#endif  // FDATTEST_COMMON_STORAGE_H_
