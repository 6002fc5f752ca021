// Launch step 5a: compiles a profile's descriptor set into a seccomp-bpf
// program with libseccomp, exported as the exact bytes the launcher installs
// and measures. Every choice is listed in docs/filter.md. Stateless;
// thread-safe.
#ifndef FDATTEST_LAUNCHER_FILTER_H_
#define FDATTEST_LAUNCHER_FILTER_H_

#include <sys/types.h>

#include <cstdint>
#include <string>
#include "absl/strings/string_view.h"
#include <vector>

#include "common/status.h"
#include "common/profile.h"

namespace fdattest {

struct FilterFd {
  int fd;
  Access access;
};

struct FilterSpec {
  std::vector<FilterFd> fds;
  OnViolation on_violation = OnViolation::kErrno;
  // The one descriptor `execveat(exec_fd, "", argv, envp, AT_EMPTY_PATH)` may
  // use (the measured executable, close-on-exec so it is gone after the exec).
  // -1 allows no exec at all.
  int exec_fd = -1;
};
// The program is a pure function of the spec (no pid, no time), so equal
// profiles give byte-identical filters and their analysis can be reused.

// Returns the raw `struct sock_filter[]` bytes (8 bytes per instruction,
// host little-endian), ready for seccomp(SECCOMP_SET_MODE_FILTER).
absl::StatusOr<std::string> CompileFilter(const FilterSpec& spec);

// Installs exactly `bpf` for the calling thread. PR_SET_NO_NEW_PRIVS must be
// set already. `flags` are SECCOMP_FILTER_FLAG_* bits.
absl::Status InstallFilter(absl::string_view bpf, uint32_t flags);

}  // namespace fdattest

#endif  // FDATTEST_LAUNCHER_FILTER_H_
