// Launch step 2: open the workload executable once, check it can run under
// the fd-confining filter (a static x86_64 ELF: no interpreter that would need
// to open libraries), and hash it. The returned descriptor is what gets
// executed, so the hashed binary is the run binary. Thread-compatible.
#ifndef FDATTEST_LAUNCHER_EXECUTABLE_H_
#define FDATTEST_LAUNCHER_EXECUTABLE_H_

#include <string>

#include "common/status.h"
#include "common/unique_fd.h"

namespace fdattest {

struct Executable {
  UniqueFd fd;           // O_RDONLY|O_CLOEXEC, at a number >= the requested minimum
  std::string path;      // as resolved (advisory)
  std::string sha256;    // hex; empty unless hashed
};

// Resolves `program` (PATH search when it has no '/'), opens it, checks it and
// places the descriptor at the lowest free number >= `min_fd`. With `hash` (a
// manifest is wanted) the descriptor is a sealed memfd copy of the program,
// hashed: the digest in the manifest is then exactly what executes.
absl::StatusOr<Executable> OpenExecutable(const std::string& program, int min_fd, bool hash);

}  // namespace fdattest

#endif  // FDATTEST_LAUNCHER_EXECUTABLE_H_
