// Test-only helpers for the JOSE and EAR tests: a scratch directory removed
// at the end of the test, and the real `jose` CLI (the independent client)
// run as a child process through posix_spawnp, no shell. Not thread-safe.
#ifndef FDATTEST_TESTS_SUPPORT_JOSE_TEST_UTIL_H_
#define FDATTEST_TESTS_SUPPORT_JOSE_TEST_UTIL_H_

#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "common/status.h"

namespace fdattest::testing {

class ScratchDir {
 public:
  ScratchDir();  // mkdtemp under /tmp; aborts the test binary if that fails
  ~ScratchDir();
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;

  std::string Path(absl::string_view name) const;
  // Creates or replaces `name` with exactly `data` and `mode`.
  std::string Write(absl::string_view name, absl::string_view data, int mode = 0600) const;
  std::string Read(absl::string_view name) const;

 private:
  std::string dir_;
};

struct ProcessResult {
  int exit_code = -1;  // -1: killed by a signal
  std::string out;
  std::string err;
};

// Runs `jose args...` (found in $PATH) with stdin from /dev/null.
absl::StatusOr<ProcessResult> RunJose(const std::vector<std::string>& args, const ScratchDir& dir);

}  // namespace fdattest::testing

#endif  // FDATTEST_TESTS_SUPPORT_JOSE_TEST_UTIL_H_
