// Fault injection for the observation tests (docs/launcher.md, "Fault
// injection"): lies the launcher's child tells the kernel after the manifest
// was measured, each of which the attestor's observation must catch. They
// exist only in the test binary fdlaunch-faults, built with
// FDATTEST_LAUNCHER_FAULTS; in fdlaunch every function here is a no-op and
// ActiveFault() is always kNone, and the binary holds neither the variable's
// name nor the faults' names. Single-threaded launcher only.
#ifndef FDATTEST_LAUNCHER_FAULTS_H_
#define FDATTEST_LAUNCHER_FAULTS_H_

#include <set>
#include <string>

#include "absl/strings/string_view.h"
#include "common/status.h"

namespace fdattest {

enum class Fault {
  kNone,
  kFilterBytes,   // installs a filter other than the measured one
  kSecondFilter,  // installs an allow-all filter before the measured one
  kExtraFd,       // keeps an undeclared descriptor
  kOtherInode,    // puts another file behind the first declared descriptor
  kOpenMode,      // reopens the first declared read-only file read-write
  kNoNnp,         // leaves no_new_privs unset
  kCapability,    // leaves CAP_CHOWN in the bounding set
  kOtherExe,      // execs another program than the measured one
};

// The fault the environment selects (test build only; kNone otherwise).
Fault ActiveFault();

// Called in the child while /proc is still reachable (before the empty
// root): kOtherInode, kOpenMode and kOtherExe change `declared` numbers or
// the executable descriptor `exe_fd` here.
absl::Status InjectBeforeRoot(const std::set<int>& declared, int exe_fd);
// Called after the undeclared descriptors are closed: kExtraFd opens one.
absl::Status InjectAfterClose();
// The filter bytes to install before the measured ones (kSecondFilter), or
// instead of them (kFilterBytes): a one-instruction allow-all program.
std::string AllowAllFilter();

}  // namespace fdattest

#endif  // FDATTEST_LAUNCHER_FAULTS_H_
