// The workload starts with no capability, even as uid 0 (launch step 1).
//
// A process running as root gains its whole bounding set at exec
// (capabilities(7), "Capabilities and execution of programs by root"), so the
// filter would be the only thing between a root workload and, for example,
// madvise(MADV_HWPOISON) on pages it shares with the host's page cache. The
// launcher therefore empties the bounding, ambient and inheritable sets before
// the exec: the permitted set after exec is then empty whatever the uid (a
// program marked with file capabilities is refused when it is opened,
// executable.cc). The launcher's own effective set is left alone until the
// exec replaces it, so the launch itself keeps what it needs (mounting the
// empty root, opening declared paths, reading the program).
#ifndef FDATTEST_LAUNCHER_CAPABILITIES_H_
#define FDATTEST_LAUNCHER_CAPABILITIES_H_

#include "common/status.h"

namespace fdattest {

// Empties the ambient, bounding and inheritable capability sets of the calling
// thread, then reads them back. FailedPrecondition when a capability still in
// the bounding set cannot be dropped (no CAP_SETPCAP): the workload would
// start with it, so the launch must not go on.
absl::Status DropCapabilitiesForExec();

}  // namespace fdattest

#endif  // FDATTEST_LAUNCHER_CAPABILITIES_H_
