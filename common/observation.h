// What fdattestd read from the kernel about a workload (docs/formats/event-log.md,
// "launch_observation"): its installed seccomp filters, its status, its
// executable, its root and namespaces, and its fd table. The attestor fills a
// KernelObservation (attestor/kernel_observer.h) and records it; the verifier
// reads it back from the event log and holds it against the manifest with the
// same check the attestor ran (CheckObservationMatchesManifest), so both ends
// judge a claim by one rule. Pure values and functions: thread-safe.
#ifndef FDATTEST_COMMON_OBSERVATION_H_
#define FDATTEST_COMMON_OBSERVATION_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/json.h"
#include "common/manifest.h"
#include "common/status.h"

namespace fdattest {

// The socket facts of a declared fd that the kernel can be asked again.
struct ObservedSocket {
  std::string family;  // as SocketFingerprint
  std::string type;
  int protocol = 0;
  std::string local_address;
  std::string peer_address;
  // SO_PEERCRED of a unix socket: the peer's pid, uid and gid.
  std::optional<int64_t> peer_pid;
  std::optional<uint32_t> peer_uid, peer_gid;

  friend bool operator==(const ObservedSocket&, const ObservedSocket&) = default;
};

// One open descriptor of the workload, as the kernel shows it: fstat of the
// description (pidfd_getfd), its open flags and mount id (fdinfo), and for a
// socket its addresses and peer.
struct ObservedFd {
  int fd = -1;
  std::string kind;  // as FdFingerprint::kind
  uint64_t dev = 0, ino = 0, rdev = 0;
  uint32_t mode = 0;      // st_mode: file type and permission bits
  std::string open_mode;  // "r", "w", "rw", "path"
  bool append = false;
  int64_t mnt_id = -1;  // -1: fdinfo shows none
  std::optional<uint32_t> memfd_seals;
  std::optional<std::string> anon_type;
  std::optional<ObservedSocket> socket;

  friend bool operator==(const ObservedFd&, const ObservedFd&) = default;
};

// The part of a launcher's fingerprint that an observation repeats: what the
// manifest claims about one fd, in the observation's terms.
ObservedFd ObservedFdOf(const FdFingerprint& fp);

// The workload's root directory (/proc/PID/root, /proc/PID/mountinfo).
struct ObservedRoot {
  uint32_t mounts = 0;   // lines of /proc/PID/mountinfo: the empty root has 1
  std::string fs_type;   // of the mount at "/": "tmpfs" for the empty root
  bool read_only = false;
  uint32_t entries = 0;  // directory entries of "/" besides "." and ".."

  friend bool operator==(const ObservedRoot&, const ObservedRoot&) = default;
};

struct KernelObservation {
  std::string exe_sha256;  // of /proc/PID/exe's content, hex
  // Every installed filter, newest first (PTRACE_SECCOMP_GET_FILTER's index
  // 0 is the oldest): the sha256 (hex) of its raw sock_filter bytes.
  std::vector<std::string> filter_sha256;
  int seccomp_mode = 0;  // /proc/PID/status Seccomp: 2 = filter
  bool no_new_privs = false;
  // /proc/PID/status CapInh, CapPrm, CapEff, CapBnd, CapAmb.
  uint64_t cap_inheritable = 0, cap_permitted = 0, cap_effective = 0, cap_bounding = 0,
           cap_ambient = 0;
  std::map<std::string, std::string> namespaces;  // name -> "type:[inode]", as the manifest
  ObservedRoot root;
  std::vector<ObservedFd> fds;  // every open fd, ascending

  // Canonical-JSON-ready (docs/formats/event-log.md); FromJson is its strict
  // inverse (unknown or missing keys, wrong types and ranges: InvalidArgument
  // naming the key).
  Json ToJson() const;
  static absl::StatusOr<KernelObservation> FromJson(const JsonValue& json);

  friend bool operator==(const KernelObservation&, const KernelObservation&) = default;
};

// The claim check, the same at the attestor (before it records anything) and
// at the verifier: OK iff the kernel shows what the manifest claims for the
// workload at its first instruction —
//   exactly one filter, whose sha256 is the manifest's filter digest;
//   seccomp mode 2, no_new_privs, every capability set empty;
//   the executable's digest is manifest.exe.sha256;
//   the root is the empty root (one mount, tmpfs, read-only, no entries);
//   every namespace but "mnt" is the manifest's, and "mnt" is not (the
//   launcher's own mount namespace is left for the empty root's);
//   the fd numbers are exactly the declared ones, and each ObservedFd equals
//   ObservedFdOf(the manifest's fingerprint of that fd).
// Otherwise FailedPrecondition naming the first field that differs, in the
// form "<field>: manifest <claimed>, kernel <observed>" (for example
// "fds[fd 3].ino: manifest 1234, kernel 5678", "filters: manifest 1, kernel 2",
// "fd 9: open but not declared").
absl::Status CheckObservationMatchesManifest(const KernelObservation& observed,
                                             const Manifest& manifest);

// The re-attestation check: OK iff `now` shows the same process state as
// `at_load` (the load observation that was recorded for the launch whose
// manifest is `manifest`): same filters, status, executable, root,
// namespaces and fd table. One change is expected, not a difference: a
// secret fd (manifest fd with `secret`) sealed since the load, whose seals
// are then exactly F_SEAL_SEAL|F_SEAL_SHRINK|F_SEAL_GROW|F_SEAL_WRITE (the
// launcher fills and seals it after the load observation). Otherwise
// FailedPrecondition naming the first field that differs, as above with
// "load" and "now" for the two sides.
absl::Status CheckObservationUnchanged(const KernelObservation& now,
                                       const KernelObservation& at_load,
                                       const Manifest& manifest);

}  // namespace fdattest

#endif  // FDATTEST_COMMON_OBSERVATION_H_
