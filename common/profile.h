// The launch profile (docs/formats/profile.md): which descriptors a workload
// gets, at which numbers, with which access, from which source, and what a
// refused syscall does. Parsed strictly: unknown keys, wrong types, duplicate
// fds, missing or double sources are errors naming the offending entry.
// Immutable value; thread-compatible.
#ifndef FDATTEST_COMMON_PROFILE_H_
#define FDATTEST_COMMON_PROFILE_H_

#include <string>
#include "absl/strings/string_view.h"
#include <vector>

#include "common/status.h"

namespace fdattest {

enum class Access { kRead, kWrite, kReadWrite, kAppend };
enum class OnViolation { kErrno, kKill };
enum class FdSource { kInherit, kOpen, kConnect, kNull };

absl::string_view AccessName(Access a);
absl::string_view SourceName(FdSource s);
inline bool Readable(Access a) { return a == Access::kRead || a == Access::kReadWrite; }
inline bool Writable(Access a) { return a != Access::kRead; }

inline constexpr int kMaxDeclaredFd = 255;
inline constexpr size_t kMaxDeclaredFds = 32;  // keeps the filter small (docs/filter.md)

struct FdSpec {
  int fd = -1;
  std::string role;
  Access access = Access::kRead;
  FdSource source = FdSource::kNull;
  std::string target;         // path for open, "unix:PATH"/"tcp:HOST:PORT" for connect
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
