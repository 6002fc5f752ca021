#include "verifier/secret_box.h"

#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "absl/strings/str_cat.h"
#include "common/file_io.h"
#include "common/openssl_ptr.h"
#include "common/unique_fd.h"

namespace fdattest {
namespace {

constexpr size_t kHeaderBytes = 1 + SecretBox::kIvBytes;

// The associated data: the format version, then the secret's name.
std::string AssociatedData(absl::string_view name) {
  return absl::StrCat(absl::string_view("\x01", 1), name);
}

const unsigned char* Bytes(absl::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

absl::Status WriteAll(int fd, const uint8_t* data, size_t size, const std::string& path) {
  while (size > 0) {
    ssize_t n = write(fd, data, size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return ErrnoStatus(absl::StrCat("writing ", path), n < 0 ? errno : EIO);
    data += n;
    size -= static_cast<size_t>(n);
  }
  return absl::OkStatus();
}

absl::Status WriteNewKey(int fd, const std::string& path) {
  if (fchmod(fd, 0600) != 0) return ErrnoStatus(path, errno);
  std::array<uint8_t, SecretBox::kKeyBytes> key;
  if (RAND_bytes(key.data(), static_cast<int>(key.size())) != 1) {
    return OpenSslStatus("generating the secret key");
  }
  absl::Status status = WriteAll(fd, key.data(), key.size(), path);
  OPENSSL_cleanse(key.data(), key.size());
  RETURN_IF_ERROR(status);
  if (fsync(fd) != 0) return ErrnoStatus(absl::StrCat("syncing ", path), errno);
  UniqueFd dir(open(DirectoryOf(path).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dir.valid() || fsync(dir.get()) != 0) {
    return ErrnoStatus(absl::StrCat("syncing the directory of ", path), errno);
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status SecretBox::CreateKeyFile(const std::string& path) {
  UniqueFd fd(open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
  if (!fd.valid()) return ErrnoStatus(absl::StrCat("creating key file ", path), errno);
  absl::Status status = WriteNewKey(fd.get(), path);
  if (!status.ok()) unlink(path.c_str());  // never leave a short key behind
  return status;
}

absl::StatusOr<SecretBox> SecretBox::Open(const std::string& path) {
  UniqueFd fd(open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd.valid()) {
    if (errno == ELOOP) {
      return absl::FailedPreconditionError(absl::StrCat("key file ", path, " is a symlink"));
    }
    return ErrnoStatus(absl::StrCat("opening key file ", path), errno);
  }
  struct stat st;
  if (fstat(fd.get(), &st) != 0) return ErrnoStatus(path, errno);
  const mode_t mode = st.st_mode & 07777;
  if (!S_ISREG(st.st_mode) || st.st_uid != geteuid() || (mode != 0600 && mode != 0400)) {
    return absl::FailedPreconditionError(absl::StrCat(
        "key file ", path, " must be a regular file owned by uid ", geteuid(),
        " with mode 0600 or 0400 (it is uid ", st.st_uid, " mode ", absl::Hex(mode), ")"));
  }
  // One byte more than a key, to see a longer file.
  std::array<uint8_t, kKeyBytes + 1> buffer;
  size_t got = 0;
  while (got < buffer.size()) {
    ssize_t n = read(fd.get(), buffer.data() + got, buffer.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      OPENSSL_cleanse(buffer.data(), buffer.size());
      return ErrnoStatus(absl::StrCat("reading key file ", path), errno);
    }
    if (n == 0) break;
    got += static_cast<size_t>(n);
  }
  std::array<uint8_t, kKeyBytes> key;
  std::copy_n(buffer.begin(), kKeyBytes, key.begin());
  OPENSSL_cleanse(buffer.data(), buffer.size());
  SecretBox box(key);
  OPENSSL_cleanse(key.data(), key.size());
  if (got != kKeyBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("key file ", path, " must hold exactly ", kKeyBytes, " bytes"));
  }
  return box;
}

absl::StatusOr<SecretBox> SecretBox::FromKeyBytes(absl::string_view key) {
  if (key.size() != kKeyBytes) {
    return absl::InvalidArgumentError(absl::StrCat("a key must be exactly ", kKeyBytes, " bytes"));
  }
  std::array<uint8_t, kKeyBytes> bytes;
  std::copy_n(Bytes(key), kKeyBytes, bytes.begin());
  SecretBox box(bytes);
  OPENSSL_cleanse(bytes.data(), bytes.size());
  return box;
}

SecretBox::~SecretBox() { OPENSSL_cleanse(key_.data(), key_.size()); }

absl::StatusOr<std::string> SecretBox::Seal(absl::string_view name,
                                            absl::string_view plaintext) const {
  if (name.empty()) return absl::InvalidArgumentError("a sealed secret needs a name");
  if (plaintext.size() > kMaxPlaintextBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("a secret is at most ", kMaxPlaintextBytes, " bytes"));
  }
  std::string sealed(kHeaderBytes + plaintext.size() + kTagBytes, '\0');
  auto* out = reinterpret_cast<unsigned char*>(sealed.data());
  out[0] = kVersion;
  if (RAND_bytes(out + 1, kIvBytes) != 1) return OpenSslStatus("generating an IV");
  EvpCipherCtxPtr ctx(EVP_CIPHER_CTX_new());
  const std::string aad = AssociatedData(name);
  int len = 0;
  int final_len = 0;
  if (ctx == nullptr ||
      EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, key_.data(), out + 1) != 1 ||
      EVP_EncryptUpdate(ctx.get(), nullptr, &len, Bytes(aad), static_cast<int>(aad.size())) != 1 ||
      EVP_EncryptUpdate(ctx.get(), out + kHeaderBytes, &len, Bytes(plaintext),
                        static_cast<int>(plaintext.size())) != 1 ||
      EVP_EncryptFinal_ex(ctx.get(), out + kHeaderBytes + len, &final_len) != 1 ||
      static_cast<size_t>(len + final_len) != plaintext.size() ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, kTagBytes,
                          out + kHeaderBytes + plaintext.size()) != 1) {
    return OpenSslStatus("AES-256-GCM encryption");
  }
  return sealed;
}

absl::StatusOr<std::string> SecretBox::Open(absl::string_view name,
                                            absl::string_view sealed) const {
  if (sealed.size() < kHeaderBytes + kTagBytes) {
    return absl::DataLossError("sealed secret is truncated");
  }
  if (static_cast<uint8_t>(sealed[0]) != kVersion) {
    return absl::DataLossError(absl::StrCat("sealed secret has unknown format version ",
                                            static_cast<int>(static_cast<uint8_t>(sealed[0]))));
  }
  const size_t text_size = sealed.size() - kHeaderBytes - kTagBytes;
  if (text_size > kMaxPlaintextBytes) return absl::DataLossError("sealed secret is too large");
  const unsigned char* in = Bytes(sealed);
  // The tag is set through a non-const pointer; copy it out of the input.
  std::array<unsigned char, kTagBytes> tag;
  std::copy_n(in + kHeaderBytes + text_size, kTagBytes, tag.begin());
  std::string plaintext(text_size, '\0');
  auto* out = reinterpret_cast<unsigned char*>(plaintext.data());
  EvpCipherCtxPtr ctx(EVP_CIPHER_CTX_new());
  const std::string aad = AssociatedData(name);
  int len = 0;
  int final_len = 0;
  if (ctx == nullptr ||
      EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, key_.data(), in + 1) != 1 ||
      EVP_DecryptUpdate(ctx.get(), nullptr, &len, Bytes(aad), static_cast<int>(aad.size())) != 1 ||
      EVP_DecryptUpdate(ctx.get(), out, &len, in + kHeaderBytes, static_cast<int>(text_size)) !=
          1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, kTagBytes, tag.data()) != 1) {
    OPENSSL_cleanse(plaintext.data(), plaintext.size());
    return OpenSslStatus("AES-256-GCM decryption");
  }
  if (EVP_DecryptFinal_ex(ctx.get(), out + len, &final_len) != 1 ||
      static_cast<size_t>(len + final_len) != text_size) {
    // Unauthenticated plaintext never leaves this function.
    OPENSSL_cleanse(plaintext.data(), plaintext.size());
    return absl::DataLossError(
        "sealed secret does not open: damaged, or sealed under another name or key");
  }
  return plaintext;
}

}  // namespace fdattest
