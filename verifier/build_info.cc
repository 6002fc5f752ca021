#include "verifier/build_info.h"

#include "absl/strings/str_cat.h"
#include "fdattest_build_info.h"  // generated: FDATTEST_BUILD_VERSION, FDATTEST_BUILD_COMMIT

namespace fdattest {

absl::string_view BuildVersion() { return FDATTEST_BUILD_VERSION; }
absl::string_view BuildCommit() { return FDATTEST_BUILD_COMMIT; }

std::string VerifierBuild() {
  return absl::StrCat("fdattest ", BuildVersion(), " (git ", BuildCommit(), ")");
}

}  // namespace fdattest
