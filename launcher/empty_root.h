// Launch step 14a: give the workload a private mount namespace whose root is
// an empty, read-only tmpfs, so no path resolves to anything. BPF cannot read
// path arguments: without this, a path-taking call the filter lets through
// (execveat with an absolute path ignores its fd, see docs/filter.md) would
// reach the host's files. Needs CAP_SYS_ADMIN; fails closed without it.
#ifndef FDATTEST_LAUNCHER_EMPTY_ROOT_H_
#define FDATTEST_LAUNCHER_EMPTY_ROOT_H_

#include "common/status.h"

namespace fdattest {

absl::Status EnterEmptyRoot();

}  // namespace fdattest

#endif  // FDATTEST_LAUNCHER_EMPTY_ROOT_H_
