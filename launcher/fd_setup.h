// Launch steps 3 and 4: inventory the inherited descriptors (fingerprint and
// close every one the profile does not declare as inherited) and establish
// the declared descriptors at their numbers; then step 6's truncation of the
// `w` files and step 7's fingerprints of the declared descriptors.
// Single-threaded launcher only.
#ifndef FDATTEST_LAUNCHER_FD_SETUP_H_
#define FDATTEST_LAUNCHER_FD_SETUP_H_

#include <set>
#include <vector>

#include "common/manifest.h"
#include "launcher/fingerprint.h"
#include "common/profile.h"

namespace fdattest {

// Lists the descriptors open in this process (from /proc/self/fd).
absl::StatusOr<std::vector<int>> ListOpenFds();

// Closes every descriptor number not in `keep`, with close_range(2) over the
// gaps: nothing is listed or inspected.
absl::Status CloseAllExcept(const std::set<int>& keep);

// Closes every open descriptor that is neither declared `inherit` in the
// profile nor in `keep` (the launcher's own private fds). Descriptors declared
// with another source are closed too: their numbers are about to be filled.
// With `mounts` (a manifest is wanted) each one is fingerprinted first and the
// fingerprints are returned; without, the numbers are closed unlisted.
absl::StatusOr<std::vector<FdFingerprint>> CloseUndeclaredFds(const Profile& profile,
                                                              const std::set<int>& keep,
                                                              const MountTable* mounts);

// Files the launch created, removed again if the launch fails before exec,
// so a refused launch leaves nothing behind. Not thread-safe.
class CreatedFiles {
 public:
  CreatedFiles() = default;
  CreatedFiles(const CreatedFiles&) = delete;
  CreatedFiles& operator=(const CreatedFiles&) = delete;
  ~CreatedFiles();
  void Add(std::string path) { paths_.push_back(std::move(path)); }

 private:
  std::vector<std::string> paths_;
};

// Opens/connects/checks each declared descriptor and places it at its number
// without close-on-exec. Files are created with O_EXCL so `created` knows
// which ones are new; `w` files are not truncated yet (TruncateOutputs).
absl::Status EstablishDeclaredFds(const Profile& profile, CreatedFiles& created);

// Truncates the `w` files opened by EstablishDeclaredFds. Called once every
// fallible step before it has succeeded.
absl::Status TruncateOutputs(const Profile& profile);

// Fingerprints every declared descriptor, in fd order.
absl::StatusOr<std::vector<FdFingerprint>> FingerprintDeclaredFds(const Profile& profile,
                                                                  const MountTable& mounts);

}  // namespace fdattest

#endif  // FDATTEST_LAUNCHER_FD_SETUP_H_
