// fscrypt_dir: makes a directory fscrypt-encrypted through the kernel's own
// ioctls (linux/fscrypt.h), for the demo and the storage tests, on machines
// without fscryptctl. Each command is one ioctl:
//
//   fscrypt_dir add-key MOUNTPOINT KEYFILE   FS_IOC_ADD_ENCRYPTION_KEY with the
//       64 raw bytes of KEYFILE; prints the key identifier (32 hex digits)
//   fscrypt_dir set-policy DIR IDENTIFIER    FS_IOC_SET_ENCRYPTION_POLICY, a v2
//       policy: contents AES-256-XTS, filenames AES-256-CTS, 32-byte padding
//   fscrypt_dir get-policy PATH              FS_IOC_GET_ENCRYPTION_POLICY_EX;
//       prints "v2 1 4 0x2 IDENTIFIER", or "none" when PATH is not encrypted
//   fscrypt_dir remove-key MOUNTPOINT IDENTIFIER   FS_IOC_REMOVE_ENCRYPTION_KEY
//
// Exit status: 0 done, 1 the kernel refused (the message says which ioctl
// and why), 2 usage error. The key never leaves the kernel after add-key.
#include <fcntl.h>
#include <linux/fscrypt.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/file_io.h"
#include "common/sha256.h"
#include "common/status.h"
#include "common/unique_fd.h"

namespace fdattest {
namespace {

constexpr size_t kRawKeyBytes = FSCRYPT_MAX_KEY_SIZE;  // 64: AES-256-XTS takes two 256-bit keys

absl::StatusOr<UniqueFd> OpenDir(const std::string& path) {
  UniqueFd fd(open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd) return ErrnoStatus(absl::StrCat("open ", path), errno);
  return fd;
}

absl::StatusOr<std::string> Identifier(const std::string& hex) {
  absl::StatusOr<std::string> raw = HexDecode(hex);
  if (!raw.ok() || raw->size() != FSCRYPT_KEY_IDENTIFIER_SIZE) {
    return absl::InvalidArgumentError(
        absl::StrCat("\"", hex, "\" is not a key identifier (32 hex digits)"));
  }
  return *raw;
}

absl::Status AddKey(const std::string& mountpoint, const std::string& key_file) {
  ASSIGN_OR_RETURN(std::string key, ReadFileLimited(key_file, kRawKeyBytes + 1));
  if (key.size() != kRawKeyBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat(key_file, " holds ", key.size(), " bytes; a key is ", kRawKeyBytes));
  }
  ASSIGN_OR_RETURN(UniqueFd dir, OpenDir(mountpoint));
  std::vector<unsigned char> buf(sizeof(fscrypt_add_key_arg) + kRawKeyBytes, 0);
  auto* arg = reinterpret_cast<fscrypt_add_key_arg*>(buf.data());
  arg->key_spec.type = FSCRYPT_KEY_SPEC_TYPE_IDENTIFIER;
  arg->raw_size = kRawKeyBytes;
  memcpy(arg->raw, key.data(), kRawKeyBytes);
  const int rc = ioctl(dir.get(), FS_IOC_ADD_ENCRYPTION_KEY, arg);
  const int err = errno;
  explicit_bzero(buf.data() + sizeof(fscrypt_add_key_arg), kRawKeyBytes);
  explicit_bzero(key.data(), key.size());
  if (rc != 0) return ErrnoStatus(absl::StrCat("FS_IOC_ADD_ENCRYPTION_KEY on ", mountpoint), err);
  std::string id(reinterpret_cast<const char*>(arg->key_spec.u.identifier),
                 FSCRYPT_KEY_IDENTIFIER_SIZE);
  std::printf("%s\n", HexEncode(id).c_str());
  return absl::OkStatus();
}

absl::Status SetPolicy(const std::string& path, const std::string& hex) {
  ASSIGN_OR_RETURN(std::string id, Identifier(hex));
  ASSIGN_OR_RETURN(UniqueFd dir, OpenDir(path));
  fscrypt_policy_v2 policy{};
  policy.version = FSCRYPT_POLICY_V2;
  policy.contents_encryption_mode = FSCRYPT_MODE_AES_256_XTS;
  policy.filenames_encryption_mode = FSCRYPT_MODE_AES_256_CTS;
  policy.flags = FSCRYPT_POLICY_FLAGS_PAD_32;
  memcpy(policy.master_key_identifier, id.data(), FSCRYPT_KEY_IDENTIFIER_SIZE);
  if (ioctl(dir.get(), FS_IOC_SET_ENCRYPTION_POLICY, &policy) != 0) {
    return ErrnoStatus(absl::StrCat("FS_IOC_SET_ENCRYPTION_POLICY on ", path), errno);
  }
  return absl::OkStatus();
}

absl::Status GetPolicy(const std::string& path) {
  UniqueFd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return ErrnoStatus(absl::StrCat("open ", path), errno);
  fscrypt_get_policy_ex_arg arg{};
  arg.policy_size = sizeof(arg.policy);
  if (ioctl(fd.get(), FS_IOC_GET_ENCRYPTION_POLICY_EX, &arg) != 0) {
    if (errno == ENODATA) {
      std::printf("none\n");
      return absl::OkStatus();
    }
    return ErrnoStatus(absl::StrCat("FS_IOC_GET_ENCRYPTION_POLICY_EX on ", path), errno);
  }
  if (arg.policy.version == FSCRYPT_POLICY_V1) {
    const fscrypt_policy_v1& p = arg.policy.v1;
    std::printf("v1 %u %u 0x%x %s\n", p.contents_encryption_mode, p.filenames_encryption_mode,
                p.flags,
                HexEncode(absl::string_view(reinterpret_cast<const char*>(p.master_key_descriptor),
                                            FSCRYPT_KEY_DESCRIPTOR_SIZE))
                    .c_str());
  } else {
    const fscrypt_policy_v2& p = arg.policy.v2;
    std::printf("v2 %u %u 0x%x %s\n", p.contents_encryption_mode, p.filenames_encryption_mode,
                p.flags,
                HexEncode(absl::string_view(reinterpret_cast<const char*>(p.master_key_identifier),
                                            FSCRYPT_KEY_IDENTIFIER_SIZE))
                    .c_str());
  }
  return absl::OkStatus();
}

absl::Status RemoveKey(const std::string& mountpoint, const std::string& hex) {
  ASSIGN_OR_RETURN(std::string id, Identifier(hex));
  ASSIGN_OR_RETURN(UniqueFd dir, OpenDir(mountpoint));
  fscrypt_remove_key_arg arg{};
  arg.key_spec.type = FSCRYPT_KEY_SPEC_TYPE_IDENTIFIER;
  memcpy(arg.key_spec.u.identifier, id.data(), FSCRYPT_KEY_IDENTIFIER_SIZE);
  if (ioctl(dir.get(), FS_IOC_REMOVE_ENCRYPTION_KEY, &arg) != 0) {
    return ErrnoStatus(absl::StrCat("FS_IOC_REMOVE_ENCRYPTION_KEY on ", mountpoint), errno);
  }
  if (arg.removal_status_flags & FSCRYPT_KEY_REMOVAL_STATUS_FLAG_FILES_BUSY) {
    return absl::FailedPreconditionError(
        absl::StrCat("key removed from ", mountpoint, ", but files still open keep it in use"));
  }
  return absl::OkStatus();
}

int Usage() {
  std::fprintf(stderr,
               "usage: fscrypt_dir add-key MOUNTPOINT KEYFILE\n"
               "       fscrypt_dir set-policy DIR IDENTIFIER\n"
               "       fscrypt_dir get-policy PATH\n"
               "       fscrypt_dir remove-key MOUNTPOINT IDENTIFIER\n");
  return 2;
}

}  // namespace
}  // namespace fdattest

int main(int argc, char** argv) {
  using namespace fdattest;
  if (argc < 3) return Usage();
  const std::string cmd = argv[1];
  absl::Status status;
  if (cmd == "add-key" && argc == 4) {
    status = AddKey(argv[2], argv[3]);
  } else if (cmd == "set-policy" && argc == 4) {
    status = SetPolicy(argv[2], argv[3]);
  } else if (cmd == "get-policy" && argc == 3) {
    status = GetPolicy(argv[2]);
  } else if (cmd == "remove-key" && argc == 4) {
    status = RemoveKey(argv[2], argv[3]);
  } else {
    return Usage();
  }
  if (!status.ok()) {
    std::fprintf(stderr, "fscrypt_dir: %s\n", std::string(status.message()).c_str());
    return 1;
  }
  return 0;
}
