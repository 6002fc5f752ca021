#include "launcher/secret_fd.h"

#include <fcntl.h>
#include <openssl/crypto.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "absl/strings/str_cat.h"

namespace fdattest {
namespace {

std::string Label(int fd, absl::string_view name) {
  return absl::StrCat("secret fd ", fd, " (", name, ")");
}

// A read-only description of the memfd at `writer`, at number `target`
// without close-on-exec.
absl::Status PlaceReadOnly(int writer, int target, const std::string& label) {
  // A new open file description, not a dup: its access mode is its own, so
  // the workload's descriptor is O_RDONLY whatever the writer can do.
  UniqueFd ro(open(absl::StrCat("/proc/self/fd/", writer).c_str(), O_RDONLY | O_CLOEXEC));
  if (!ro) return ErrnoStatus(absl::StrCat(label, ": cannot reopen the memfd read-only"), errno);
  if (ro.get() == target) {
    if (fcntl(target, F_SETFD, 0) != 0) return ErrnoStatus("fcntl(F_SETFD)", errno);
    ro.release();
    return absl::OkStatus();
  }
  if (dup3(ro.get(), target, 0) != target) {
    return ErrnoStatus(absl::StrCat(label, ": dup3 onto fd ", target), errno);
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status FillSecretFd(int writer, int declared, absl::string_view plaintext) {
  size_t off = 0;
  while (off < plaintext.size()) {
    ssize_t n = pwrite(writer, plaintext.data() + off, plaintext.size() - off,
                       static_cast<off_t>(off));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return ErrnoStatus("cannot write the secret into its memfd", n < 0 ? errno : EIO);
    off += static_cast<size_t>(n);
  }
  if (fcntl(writer, F_ADD_SEALS, kSecretSeals) != 0) {
    return ErrnoStatus("cannot seal the secret's memfd", errno);
  }
  // What the workload will hold: the same memfd, read-only, sealed, exactly
  // the secret's size, read from the start.
  struct stat w {}, d {};
  if (fstat(writer, &w) != 0 || fstat(declared, &d) != 0) {
    return ErrnoStatus("fstat of the secret's memfd", errno);
  }
  if (w.st_dev != d.st_dev || w.st_ino != d.st_ino) {
    return absl::InternalError(absl::StrCat("fd ", declared, " is no longer the secret's memfd"));
  }
  if (static_cast<uint64_t>(d.st_size) != plaintext.size()) {
    return absl::InternalError(absl::StrCat("the secret's memfd holds ", d.st_size, " bytes, not ",
                                            plaintext.size()));
  }
  const int flags = fcntl(declared, F_GETFL);
  if (flags < 0 || (flags & O_ACCMODE) != O_RDONLY) {
    return absl::InternalError(absl::StrCat("fd ", declared, " is not read-only"));
  }
  if (fcntl(declared, F_GET_SEALS) != kSecretSeals) {
    return absl::InternalError(absl::StrCat("fd ", declared, " is not sealed"));
  }
  if (lseek(declared, 0, SEEK_SET) != 0) return ErrnoStatus("lseek of the secret fd", errno);
  return absl::OkStatus();
}

absl::StatusOr<PendingSecrets> PendingSecrets::Establish(const Profile& profile, int above) {
  PendingSecrets pending;
  for (const FdSpec& spec : profile.fds) {
    if (spec.source != FdSource::kSecret) continue;
    const std::string label = Label(spec.fd, spec.target);
    UniqueFd memfd(memfd_create(spec.target.c_str(), MFD_CLOEXEC | MFD_ALLOW_SEALING));
    if (!memfd) return ErrnoStatus(absl::StrCat(label, ": memfd_create"), errno);
    Secret secret{.name = spec.target, .fd = spec.fd};
    // Above every declared number, so placing the next fds cannot clobber it.
    secret.writer = UniqueFd(fcntl(memfd.get(), F_DUPFD_CLOEXEC, above));
    if (!secret.writer) return ErrnoStatus("fcntl(F_DUPFD_CLOEXEC)", errno);
    memfd.reset();
    RETURN_IF_ERROR(PlaceReadOnly(secret.writer.get(), spec.fd, label));
    pending.secrets_.push_back(std::move(secret));
  }
  return pending;
}

std::vector<std::string> PendingSecrets::names() const {
  std::vector<std::string> out;
  for (const Secret& s : secrets_) out.push_back(s.name);
  return out;
}

absl::Status PendingSecrets::Fill(absl::string_view name, std::string& plaintext) {
  struct Cleanse {
    std::string& s;
    ~Cleanse() { OPENSSL_cleanse(s.data(), s.size()); }
  } cleanse{plaintext};
  for (Secret& s : secrets_) {
    if (s.name != name) continue;
    if (s.filled) return absl::FailedPreconditionError(absl::StrCat(Label(s.fd, name), " is already filled"));
    if (plaintext.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat(Label(s.fd, name), ": the released secret is empty"));
    }
    absl::Status filled = FillSecretFd(s.writer.get(), s.fd, plaintext);
    if (!filled.ok()) {
      return absl::Status(filled.code(), absl::StrCat(Label(s.fd, name), ": ", filled.message()));
    }
    s.writer.reset();
    s.filled = true;
    return absl::OkStatus();
  }
  return absl::FailedPreconditionError(
      absl::StrCat("secret \"", name, "\" is not declared by the profile"));
}

absl::Status PendingSecrets::CheckAllFilled() const {
  for (const Secret& s : secrets_) {
    if (!s.filled) {
      return absl::FailedPreconditionError(absl::StrCat(Label(s.fd, s.name), " was not filled"));
    }
  }
  return absl::OkStatus();
}

}  // namespace fdattest
