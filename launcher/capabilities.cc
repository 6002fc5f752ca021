#include "launcher/capabilities.h"

#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>

#include "absl/strings/str_cat.h"
#include "launcher/faults.h"

namespace fdattest {
namespace {

__user_cap_header_struct OwnCapHeader() {
  return {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
}

// PR_CAPBSET_READ: 1 in the set, 0 not, -1 with EINVAL past the last
// capability the running kernel knows.
int InBoundingSet(int cap) { return prctl(PR_CAPBSET_READ, cap, 0, 0, 0); }

}  // namespace

absl::Status DropCapabilitiesForExec() {
  // Every capability number the running kernel knows (/proc/sys/kernel/
  // cap_last_cap, found by probing). Dropping one that is not in the set
  // succeeds; without CAP_SETPCAP every drop is EPERM, which is acceptable
  // only for a capability already gone.
  // The test build's "capability" fault keeps CAP_CHOWN (launcher/faults.h).
  const int kept = ActiveFault() == Fault::kCapability ? CAP_CHOWN : -1;
  int known = 0;
  for (;; ++known) {
    if (known == kept) continue;
    if (prctl(PR_CAPBSET_DROP, known, 0, 0, 0) == 0) continue;
    int drop_errno = errno;
    int in = InBoundingSet(known);
    if (in < 0 && errno == EINVAL && known > 0) break;
    if (in < 0) return ErrnoStatus(absl::StrCat("prctl(PR_CAPBSET_READ, ", known, ")"), errno);
    if (in == 0 && drop_errno == EPERM) continue;
    if (drop_errno == EPERM) {
      return absl::FailedPreconditionError(absl::StrCat(
          "cannot drop capability ", known,
          " from the bounding set (needs CAP_SETPCAP): the workload would start with it"));
    }
    return ErrnoStatus(absl::StrCat("prctl(PR_CAPBSET_DROP, ", known, ")"), drop_errno);
  }
  if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0) {
    return ErrnoStatus("clearing the ambient capability set", errno);
  }
  __user_cap_header_struct header = OwnCapHeader();
  __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3] = {};
  if (syscall(SYS_capget, &header, data) != 0) return ErrnoStatus("capget", errno);
  for (__user_cap_data_struct& d : data) d.inheritable = 0;
  header = OwnCapHeader();
  if (syscall(SYS_capset, &header, data) != 0) {
    return ErrnoStatus("clearing the inheritable capability set", errno);
  }

  // Read back what the exec computes the workload's sets from
  // (capabilities(7)): the bounding set and the inheritable set (the ambient
  // set is a subset of the inheritable one, so it is empty too).
  header = OwnCapHeader();
  if (syscall(SYS_capget, &header, data) != 0) return ErrnoStatus("capget", errno);
  for (const __user_cap_data_struct& d : data) {
    if (d.inheritable != 0) return absl::InternalError("the inheritable set is not empty");
  }
  for (int cap = 0; cap < known; ++cap) {
    if (cap != kept && InBoundingSet(cap) != 0) {
      return absl::InternalError(absl::StrCat("capability ", cap, " is still in the bounding set"));
    }
  }
  return absl::OkStatus();
}

}  // namespace fdattest
