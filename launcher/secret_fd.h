// Secret descriptors (profile source "secret", docs/formats/profile.md):
// launch step 4 creates one empty memfd per secret fd, places a read-only
// open file description of it at the declared number and keeps a writable,
// close-on-exec description of it privately; after the verifier released the
// secret (step 12b), Fill writes it through the private description, seals the
// memfd against every change and closes the private description. So the
// workload's only access is the read-only description step 7 fingerprinted,
// and the secret exists in that memfd alone (docs/launcher.md, "Secret
// descriptors"). Single-threaded launcher only.
#ifndef FDATTEST_LAUNCHER_SECRET_FD_H_
#define FDATTEST_LAUNCHER_SECRET_FD_H_

#include <fcntl.h>

#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "common/profile.h"
#include "common/status.h"
#include "common/unique_fd.h"

namespace fdattest {

// The seals of a filled secret: no write, no size change, no seal change.
inline constexpr int kSecretSeals = F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE;

// Writes `plaintext` into the memfd open for writing at `writer`, adds
// kSecretSeals, and checks that `declared` is a read-only description of
// that same memfd holding exactly the plaintext, rewound to offset 0.
// Leaves `writer` open (the caller closes it) and the plaintext as it was.
absl::Status FillSecretFd(int writer, int declared, absl::string_view plaintext);

// The profile's secret fds between step 4 and step 12b. Move-only; not
// thread-safe. Destroying it closes the private writable descriptors, so an
// unfilled secret fd stays empty and unsealed (the launch then fails: see
// CheckAllFilled).
class PendingSecrets {
 public:
  // Step 4: for each secret fd, memfd_create(NAME, MFD_CLOEXEC |
  // MFD_ALLOW_SEALING); the writable description moves to a number at or
  // above `above`, a read-only one (opened through /proc/self/fd, which is
  // reachable until step 14 enters the empty root) goes to the declared
  // number without close-on-exec.
  static absl::StatusOr<PendingSecrets> Establish(const Profile& profile, int above);

  PendingSecrets(PendingSecrets&&) = default;
  PendingSecrets& operator=(PendingSecrets&&) = default;

  bool empty() const { return secrets_.empty(); }
  // The secrets' names, in fd order.
  std::vector<std::string> names() const;

  // Fills the named secret's fd (FillSecretFd) and closes its private
  // writable description. `plaintext` is cleansed (OPENSSL_cleanse) whatever
  // the outcome. FailedPrecondition for a name the profile does not declare
  // or one already filled; InvalidArgument for an empty secret (a workload
  // must never read an empty fd as its secret).
  absl::Status Fill(absl::string_view name, std::string& plaintext);

  // FailedPrecondition naming the first secret not filled.
  absl::Status CheckAllFilled() const;

 private:
  struct Secret {
    std::string name;
    int fd = -1;      // the declared number (read-only description)
    UniqueFd writer;  // closed once filled
    bool filled = false;
  };
  PendingSecrets() = default;

  std::vector<Secret> secrets_;
};

}  // namespace fdattest

#endif  // FDATTEST_LAUNCHER_SECRET_FD_H_
