#include "verifier/audit/log_key.h"

#include <fcntl.h>
#include <openssl/crypto.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/file_io.h"
#include "common/unique_fd.h"

namespace fdattest {
namespace {

constexpr size_t kMaxKeyFileBytes = 16 * 1024;

absl::StatusOr<std::string> ReadPrivateFile(const std::string& path) {
  UniqueFd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY));
  if (!fd.valid()) return ErrnoStatus(absl::StrCat("cannot open ", path), errno);
  struct stat st;
  if (fstat(fd.get(), &st) != 0) return ErrnoStatus(path, errno);
  if (!S_ISREG(st.st_mode)) {
    return absl::FailedPreconditionError(absl::StrCat(path, " is not a regular file"));
  }
  if ((st.st_mode & 077) != 0 || st.st_uid != geteuid()) {
    return absl::FailedPreconditionError(
        absl::StrCat("log key ", path, " must be owned by uid ", geteuid(),
                     " and private to it (chmod 600)"));
  }
  std::string text;
  char buf[4096];
  for (;;) {
    const ssize_t n = read(fd.get(), buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return ErrnoStatus(absl::StrCat("cannot read ", path), errno);
    if (n == 0) break;
    text.append(buf, static_cast<size_t>(n));
    if (text.size() > kMaxKeyFileBytes) {
      OPENSSL_cleanse(text.data(), text.size());
      return absl::InvalidArgumentError(absl::StrCat(path, " is too large for a key"));
    }
  }
  return text;
}

absl::StatusOr<NoteVerifier> ReadVerifierKey(const std::string& path) {
  ASSIGN_OR_RETURN(std::string text, ReadFileLimited(path, kMaxKeyFileBytes));
  absl::StatusOr<NoteVerifier> key =
      NoteVerifier::FromVerifierKey(absl::StripTrailingAsciiWhitespace(text));
  if (!key.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": not a verifier key: ", key.status().message()));
  }
  return key;
}

}  // namespace

absl::StatusOr<NoteSigner> LoadLogSigner(const std::string& path) {
  const std::string vkey_path = absl::StrCat(path, ".vkey");
  ASSIGN_OR_RETURN(NoteVerifier vkey, ReadVerifierKey(vkey_path));
  ASSIGN_OR_RETURN(std::string pem, ReadPrivateFile(path));
  absl::StatusOr<NoteSigner> signer = NoteSigner::FromPrivateKeyPem(vkey.name(), pem);
  OPENSSL_cleanse(pem.data(), pem.size());
  if (!signer.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": not an Ed25519 log key: ", signer.status().message()));
  }
  if (signer->VerifierKey() != vkey.VerifierKey()) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, " and ", vkey_path, " are not one key pair (or ", vkey_path,
                     " is a witness key)"));
  }
  return signer;
}

absl::StatusOr<NoteVerifier> LoadWitnessKey(const std::string& path) {
  ASSIGN_OR_RETURN(NoteVerifier key, ReadVerifierKey(path));
  if (key.type() != 0x04) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": not a witness (cosignature/v1) key; make one with fdattest key "
                           "witness"));
  }
  return key;
}

}  // namespace fdattest
