// Test-only: the attestor's side of a launch, made up from its manifest, for
// tests that build evidence without a kernel to observe. MatchingObservation
// is the KernelObservation an honest attestor would record for a workload
// that is exactly what the manifest claims (CheckObservationMatchesManifest,
// common/observation.h, accepts it); tests then change one field to make it
// lie. Pure functions; thread-safe. Never linked into a shipped binary.
#ifndef FDATTEST_VERIFIER_TESTING_MATCHING_OBSERVATION_H_
#define FDATTEST_VERIFIER_TESTING_MATCHING_OBSERVATION_H_

#include <string>

#include "absl/strings/string_view.h"
#include "common/cel.h"
#include "common/manifest.h"
#include "common/observation.h"
#include "common/status.h"

namespace fdattest::testing {

// The mount namespace the observation shows: the empty root's own, never the
// manifest's (the launcher's).
inline constexpr absl::string_view kObservedMntNamespace = "mnt:[4026599999]";

// What the kernel shows of a workload launched as `m` says: one filter (the
// manifest's), seccomp mode 2, no_new_privs, no capabilities, the manifest's
// executable, the empty root, the manifest's namespaces but a new mount
// namespace, and exactly the declared fds (ObservedFdOf each fingerprint).
KernelObservation MatchingObservation(const Manifest& m);

// The launch's load observation record content: `observation` (by default
// MatchingObservation(m)), bound to `nonce`, measured for the launcher whose
// executable digest is `launcher_sha256` (hex).
absl::StatusOr<CelContent> LoadObservationOf(const Manifest& m, absl::string_view nonce,
                                             absl::string_view launcher_sha256);
absl::StatusOr<CelContent> LoadObservationOf(const Manifest& m, absl::string_view nonce,
                                             absl::string_view launcher_sha256,
                                             const KernelObservation& observation);

}  // namespace fdattest::testing

#endif  // FDATTEST_VERIFIER_TESTING_MATCHING_OBSERVATION_H_
