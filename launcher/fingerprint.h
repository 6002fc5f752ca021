// Fingerprints one open descriptor from the descriptor itself (fstat,
// F_GETFL, fdinfo's mnt_id, socket options), never from a path: paths are
// recorded as advisory only. See DESIGN.md launch step 4. MountTable caches
// /proc/self/mountinfo for one launch. Not thread-safe (one launch, one thread).
#ifndef FDATTEST_LAUNCHER_FINGERPRINT_H_
#define FDATTEST_LAUNCHER_FINGERPRINT_H_

#include <map>
#include <optional>
#include <string>

#include "absl/strings/string_view.h"

#include "common/manifest.h"
#include "common/status.h"

namespace fdattest {

class MountTable {
 public:
  static absl::StatusOr<MountTable> Load();
  const MountFingerprint* Find(int64_t mnt_id) const;
  // The hidepid option of the procfs mounted on /proc in this mount namespace
  // (the topmost one): "off", "noaccess", "invisible" or "ptraceable"
  // (proc(5)); nullopt when no procfs is mounted there.
  const std::optional<std::string>& proc_hidepid() const { return proc_hidepid_; }

 private:
  std::map<int64_t, MountFingerprint> mounts_;
  std::optional<std::string> proc_hidepid_;
};

// The manifest's name for a procfs "hidepid=" value (numeric or named);
// nullopt for a value proc(5) does not define.
std::optional<std::string> ProcHidepidName(absl::string_view value);

// Fills every field of FdFingerprint that applies to the descriptor's kind.
// `hash_content` adds the content sha256 (regular files only).
absl::StatusOr<FdFingerprint> FingerprintFd(int fd, const MountTable& mounts, bool hash_content);

// sha256 of a process's executable, by pid (for socket peers); nullopt when
// the process is gone or not readable.
std::optional<std::string> ExeDigestOfPid(int64_t pid);

}  // namespace fdattest

#endif  // FDATTEST_LAUNCHER_FINGERPRINT_H_
