// Launch steps 3 and 4: inventory the inherited descriptors (fingerprint and
// close every one the profile does not declare as inherited) and establish
// the declared descriptors at their numbers; then step 6's creation of the
// missing files and truncation of the `w` files, and step 7's fingerprints
// of the declared descriptors.
// Single-threaded launcher only.
#ifndef FDATTEST_LAUNCHER_FD_SETUP_H_
#define FDATTEST_LAUNCHER_FD_SETUP_H_

#include <sys/types.h>

#include <set>
#include <string>
#include <vector>

#include "common/manifest.h"
#include "common/unique_fd.h"
#include "common/fingerprint.h"
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

// What step 4 left for later. Step 4 changes nothing on disk: a declared
// file that does not exist yet is only checked (its parent directory opened
// once and writable, the name free) with a close-on-exec /dev/null holding its
// number, and a `w` file is open but not truncated. Commit() (step 6) makes
// those changes once every check of the launch has passed. Files Commit()
// created are removed again when this is destroyed, so a launch that fails
// before its exec leaves nothing behind (a successful exec runs no
// destructor). Move-constructible; not thread-safe.
class PendingFileChanges {
 public:
  PendingFileChanges(PendingFileChanges&&) = default;
  // Not assignable: the files the overwritten value created would be lost track of.
  PendingFileChanges& operator=(PendingFileChanges&&) = delete;
  ~PendingFileChanges();

  // Creates the missing files (O_CREAT|O_EXCL relative to the directory
  // opened in step 4, mode 0600) and puts each at its number, then truncates
  // the `w` files that are regular files. A creation that fails removes the
  // ones made before it.
  absl::Status Commit();

  // The close-on-exec directory descriptors kept for removing created files,
  // for the exec plan's private descriptors (final_exec.h): closing them
  // earlier would leave a failed exec's files behind.
  std::vector<int> DirectoryFds() const;

  // The workload runs with the files (an attested launch, whose launcher
  // stays as the workload's parent): destruction no longer removes them.
  void KeepCreated() { new_files_.clear(); }

 private:
  friend absl::StatusOr<PendingFileChanges> EstablishDeclaredFds(const Profile& profile);
  struct NewFile {
    const FdSpec* spec = nullptr;  // of the profile, which outlives this
    std::string name;              // the last component of spec->target
    UniqueFd dir;                  // its directory, opened once in step 4
    int same_as = -1;              // an earlier entry naming the same path
    bool created = false;
    dev_t dev = 0;
    ino_t ino = 0;
  };
  PendingFileChanges() = default;
  static absl::StatusOr<NewFile> CheckNewFile(const FdSpec& spec, int above);
  void RemoveCreated();

  std::vector<NewFile> new_files_;
  std::vector<int> truncate_;  // numbers of the `w` files opened in step 4
};

// Step 4: checks each inherited descriptor's mode, then opens, connects or
// checks each other declared descriptor and places it at its number without
// close-on-exec, changing nothing on disk (PendingFileChanges). Secret
// descriptors are left to PendingSecrets::Establish (launcher/secret_fd.h).
absl::StatusOr<PendingFileChanges> EstablishDeclaredFds(const Profile& profile);

// Fingerprints every declared descriptor, in fd order.
absl::StatusOr<std::vector<FdFingerprint>> FingerprintDeclaredFds(const Profile& profile,
                                                                  const MountTable& mounts);

}  // namespace fdattest

#endif  // FDATTEST_LAUNCHER_FD_SETUP_H_
