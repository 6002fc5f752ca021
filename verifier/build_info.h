// Which build of the verifier this is, as the EAR's ear_verifier_id.build
// names it (docs/ear.md): the project version and the git commit it was
// built from, both fixed at build time (cmake/build_info.cmake). Constants;
// thread-safe.
#ifndef FDATTEST_VERIFIER_BUILD_INFO_H_
#define FDATTEST_VERIFIER_BUILD_INFO_H_

#include <string>

#include "absl/strings/string_view.h"

namespace fdattest {

// The project version, e.g. "0.1.0".
absl::string_view BuildVersion();
// The commit: 40 lowercase hex digits, "-dirty" appended when tracked files
// differed from it; "unknown" when the source was not a git checkout.
absl::string_view BuildCommit();
// "fdattest <version> (git <commit>)".
std::string VerifierBuild();

}  // namespace fdattest

#endif  // FDATTEST_VERIFIER_BUILD_INFO_H_
