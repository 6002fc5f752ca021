// Which build of fdattest this is: the project version and the git commit it
// was built from, both fixed at build time (cmake/build_info.cmake). Every
// binary's --version prints BuildId(), and an EAR names its verifier by the
// same string (ear_verifier_id.build, docs/ear.md). Constants; thread-safe.
#ifndef FDATTEST_COMMON_BUILD_INFO_H_
#define FDATTEST_COMMON_BUILD_INFO_H_

#include <string>

#include "absl/strings/string_view.h"

namespace fdattest {

// The project version, e.g. "0.1.0".
absl::string_view BuildVersion();
// The commit: 40 lowercase hex digits, "-dirty" appended when tracked files
// differed from it; "unknown" when the source was not a git checkout.
absl::string_view BuildCommit();
// "fdattest <version> (git <commit>)".
std::string BuildId();

}  // namespace fdattest

#endif  // FDATTEST_COMMON_BUILD_INFO_H_
