#include "verifier/testing/matching_observation.h"

#include <algorithm>

#include "common/sha256.h"

namespace fdattest::testing {

KernelObservation MatchingObservation(const Manifest& m) {
  KernelObservation o;
  o.exe_sha256 = m.exe_sha256;
  o.filter_sha256 = {HexEncode(Sha256(m.filter.bpf))};
  o.seccomp_mode = 2;
  o.no_new_privs = true;
  o.namespaces = m.namespaces;
  o.namespaces["mnt"] = std::string(kObservedMntNamespace);
  o.root = {.mounts = 1, .fs_type = "tmpfs", .read_only = true, .entries = 0};
  for (const FdFingerprint& fp : m.fds) o.fds.push_back(ObservedFdOf(fp));
  std::sort(o.fds.begin(), o.fds.end(),
            [](const ObservedFd& a, const ObservedFd& b) { return a.fd < b.fd; });
  return o;
}

absl::StatusOr<CelContent> LoadObservationOf(const Manifest& m, absl::string_view nonce,
                                             absl::string_view launcher_sha256) {
  return LoadObservationOf(m, nonce, launcher_sha256, MatchingObservation(m));
}

absl::StatusOr<CelContent> LoadObservationOf(const Manifest& m, absl::string_view nonce,
                                             absl::string_view launcher_sha256,
                                             const KernelObservation& observation) {
  return CelContent::LaunchObservation(m.launch_id, CelContent::ObservationKind::kLoad, nonce,
                                       launcher_sha256, observation, "");
}

}  // namespace fdattest::testing
