// Fingerprints one open descriptor from the descriptor itself (fstat,
// F_GETFL, fdinfo's mnt_id, socket options), never from a path: paths are
// recorded as advisory only (launch steps 3 and 7, docs/launcher.md).
// MountTable caches /proc/self/mountinfo for one launch. Not thread-safe (one
// launch, one thread). Shared by the launcher, which fingerprints what it
// hands the workload, and the attestor, which fingerprints what the kernel
// shows the workload holds (attestor/kernel_observer.h).
#ifndef FDATTEST_COMMON_FINGERPRINT_H_
#define FDATTEST_COMMON_FINGERPRINT_H_

#include <map>
#include <string>

#include "common/manifest.h"
#include "common/status.h"

namespace fdattest {

class MountTable {
 public:
  static absl::StatusOr<MountTable> Load();
  const MountFingerprint* Find(int64_t mnt_id) const;

 private:
  std::map<int64_t, MountFingerprint> mounts_;
};

// Fills every field of FdFingerprint that applies to the descriptor's kind.
// `hash_content` adds the content sha256 (regular files only).
// `describe_peers` false leaves out what is about other processes, not the
// descriptor (a unix socket peer's executable, a pipe's other holders, each
// a walk of /proc): the attestor's observation repeats neither.
absl::StatusOr<FdFingerprint> FingerprintFd(int fd, const MountTable& mounts, bool hash_content,
                                            bool describe_peers = true);

// The namespaces a manifest records ("cgroup", "ipc", "mnt", "net", "pid",
// "time", "user", "uts"), read as "type:[inode]" from the ns/ links under
// `proc_dir` (an fd of /proc/self or /proc/PID). A link that cannot be read
// is left out; `errno_out`, when given, receives the first readlinkat error
// (ESRCH: the process is gone).
std::map<std::string, std::string> NamespacesAt(int proc_dir, int* errno_out = nullptr);

// sha256 of a process's executable, by pid (for socket peers); nullopt when
// the process is gone or not readable.
std::optional<std::string> ExeDigestOfPid(int64_t pid);

}  // namespace fdattest

#endif  // FDATTEST_COMMON_FINGERPRINT_H_
