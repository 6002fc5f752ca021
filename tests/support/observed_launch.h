// A workload launched through fdattestd the way fdlaunch launches one (the
// observed launch of docs/attestor.md), for the daemon's tests: a real child
// of the test process, held until told to go, that enters an empty root,
// drops every capability, sets no_new_privs, installs one filter and execs
// the static observed_workload by fd; and the manifest that tells the truth
// about it, built from the same facts (the parent's copies of its fds
// fingerprinted, the program's digest, this process's namespaces) and
// serialised canonically. The requests of the protocol, and the whole
// hold -> launch -> separator -> release sequence on one connection.
// Test-only; not thread-safe.
#ifndef FDATTEST_TESTS_SUPPORT_OBSERVED_LAUNCH_H_
#define FDATTEST_TESTS_SUPPORT_OBSERVED_LAUNCH_H_

#include <chrono>
#include <cstdint>
#include <string>

#include "common/json.h"
#include "common/manifest.h"
#include "common/status.h"
#include "common/unique_fd.h"
#include "tests/support/held_child.h"

namespace fdattest::testing {

class ObservedWorkload {
 public:
  // Forks the child (waiting, not yet set up) for `launch_id` and builds the
  // truthful manifest: fd 0 /dev/null read-only, fd 1 a memfd the workload
  // writes "RUN\n" to as its first action, fd 2 /dev/null write-only.
  static absl::StatusOr<ObservedWorkload> Prepare(const std::string& launch_id);

  ObservedWorkload(ObservedWorkload&&) = default;

  HeldChild& child() { return child_; }
  pid_t pid() const { return child_.pid(); }
  const std::string& launch_id() const { return manifest_.launch_id; }
  // The manifest; change it to make the launcher lie, then serialise again.
  ::fdattest::Manifest& manifest() { return manifest_; }
  // Canonical bytes of manifest(), as Manifest::Parse accepts them.
  std::string ManifestBytes() const;
  // Whether the workload ran its first instruction (its marker is in fd 1).
  bool Ran() const;
  // Waits (bounded) until Ran().
  bool WaitRan(std::chrono::milliseconds timeout) const;

 private:
  ObservedWorkload() = default;
  UniqueFd null_r_, null_w_, out_;
  HeldChild child_;
  ::fdattest::Manifest manifest_;
};

// The sha256 (hex) of a file's content, or "unreadable".
std::string FileSha256(const std::string& path);

Json HoldRequest(const std::string& launch_id, int64_t pid);
// `nonce` as raw bytes (the request carries them in base64).
Json LaunchRequest(const std::string& launch_id, const std::string& manifest_bytes,
                   const std::string& nonce);
Json ReleaseRequest(const std::string& launch_id);
Json ReattestRequest(const std::string& launch_id, const std::string& nonce);

struct LaunchedRecords {
  uint64_t manifest = 0, observation = 0, separator = 0;
};
// On connection `fd`: hold the workload, let it go, wait for its exec, launch
// with its manifest and `nonce`, measure the separator and release it. Any
// step answered with an error: Internal naming the step and the response.
absl::StatusOr<LaunchedRecords> LaunchObserved(int fd, ObservedWorkload& workload,
                                               const std::string& nonce);
// The first steps only (hold, go, exec, launch): the launch response.
absl::StatusOr<Json> HoldAndLaunch(int fd, ObservedWorkload& workload, const std::string& nonce);

}  // namespace fdattest::testing

#endif  // FDATTEST_TESTS_SUPPORT_OBSERVED_LAUNCH_H_
