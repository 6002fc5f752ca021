// Launch step 14, the point of no return, and the launcher's final exec: an
// empty mount namespace as root (step 14a, empty_root.h), no_new_privs, close
// everything that is not declared, install exactly the measured filter bytes,
// and execveat the measured executable descriptor (step 2, executable.h).
// Returns only on failure before the filter is installed; after that, a
// failed exec ends the process with status 126. Single-threaded launcher only.
#ifndef FDATTEST_LAUNCHER_FINAL_EXEC_H_
#define FDATTEST_LAUNCHER_FINAL_EXEC_H_

#include <set>
#include <string>
#include "absl/strings/string_view.h"
#include <vector>

#include "common/status.h"

namespace fdattest {

inline constexpr int kExitExecFailedUnderFilter = 126;

struct ExecPlan {
  std::set<int> declared;    // stay open across exec
  std::set<int> private_fds;  // close-on-exec launcher descriptors (exe, diagnostics)
  int exe_fd = -1;
  absl::string_view bpf;
  uint32_t install_flags = 0;
  std::vector<std::string> argv;
};

absl::Status ExecConfined(const ExecPlan& plan);

}  // namespace fdattest

#endif  // FDATTEST_LAUNCHER_FINAL_EXEC_H_
