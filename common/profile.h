// The launch profile (docs/formats/profile.md): which descriptors a workload
// gets, at which numbers, with which access, from which source, and what a
// refused syscall does. Parsed strictly: unknown keys (reported first), wrong
// types, duplicate fds, missing or double sources, relative paths and an
// access the fd's class forbids are errors naming the offending entry.
// Immutable value; thread-compatible.
#ifndef FDATTEST_COMMON_PROFILE_H_
#define FDATTEST_COMMON_PROFILE_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"

#include "common/status.h"

namespace fdattest {

enum class Access { kRead, kWrite, kReadWrite, kAppend };
enum class OnViolation { kErrno, kKill };
// kSecret: an empty memfd the launcher fills, after attestation, with a
// secret a verifier released to this launch (docs/formats/profile.md).
enum class FdSource { kInherit, kOpen, kConnect, kNull, kSecret };

// What a descriptor is for, and so which accesses it may be declared with
// (docs/formats/profile.md, "Classes"): checked when the profile is parsed,
// before any file is touched. The names are the verifier policy's role
// classes.
enum class FdClass {
  kPhiInput,   // protected data in: "r" only, never changed
  kPhiOutput,  // protected data out: "w", "a", "rw"
  kAudit,      // the audit trail: "a" (never truncated); "w" only on a connected socket
  kControl,    // anything else: every access
  kSecret,     // a released secret (source "secret" only): "r" only
};

absl::string_view AccessName(Access a);
absl::string_view SourceName(FdSource s);
absl::string_view FdClassName(FdClass c);
// The class a well-known role name implies ("phi-input", "audit-log", ...),
// or nullopt for any other name.
std::optional<FdClass> KnownRoleClass(absl::string_view role);
// A secret's name: 1..64 characters of A-Za-z0-9._- (profiles, manifests,
// the verifier's release requests).
bool IsSecretName(absl::string_view name);
inline bool Readable(Access a) { return a == Access::kRead || a == Access::kReadWrite; }
inline bool Writable(Access a) { return a != Access::kRead; }

inline constexpr int kMaxDeclaredFd = 255;
inline constexpr size_t kMaxDeclaredFds = 32;  // keeps the filter small (docs/filter.md)

struct FdSpec {
  int fd = -1;
  std::string role;
  FdClass fd_class = FdClass::kControl;  // "class", or implied by a well-known role
  Access access = Access::kRead;
  FdSource source = FdSource::kNull;
  // The path for open, "unix:PATH"/"tcp:HOST:PORT" for connect, the
  // secret's name for secret.
  std::string target;
  bool hash_content = false;  // record the content sha256 of an opened/inherited file
};

struct Profile {
  int version = 1;
  std::string name;
  OnViolation on_violation = OnViolation::kErrno;
  std::vector<FdSpec> fds;  // sorted by fd number
  std::string text;         // the profile file's exact bytes (what Sha256Hex() digests)

  // Hex sha256 of `text`, computed on demand: a launch that records no
  // manifest never needs it.
  std::string Sha256Hex() const;

  static absl::StatusOr<Profile> Parse(absl::string_view text);
  static absl::StatusOr<Profile> Load(const std::string& path);

  const FdSpec* Find(int fd) const;
};

}  // namespace fdattest

#endif  // FDATTEST_COMMON_PROFILE_H_
