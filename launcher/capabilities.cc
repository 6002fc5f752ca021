#include "launcher/capabilities.h"

#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>

#include "absl/strings/str_cat.h"

namespace fdattest {
namespace {

absl::Status ReadCapSets(__user_cap_data_struct (&data)[_LINUX_CAPABILITY_U32S_3]) {
  __user_cap_header_struct header{.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
  if (syscall(SYS_capget, &header, data) != 0) return ErrnoStatus("capget", errno);
  return absl::OkStatus();
}

}  // namespace

absl::Status DropCapabilitiesForExec() {
  // Every capability number the running kernel knows: PR_CAPBSET_DROP answers
  // EINVAL past the last one (/proc/sys/kernel/cap_last_cap is not reachable
  // from the empty root). Dropping one that is not in the set succeeds.
  for (int cap = 0;; ++cap) {
    if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) == 0) continue;
    if (errno == EINVAL && cap > 0) break;
    if (errno != EPERM) return ErrnoStatus(absl::StrCat("prctl(PR_CAPBSET_DROP, ", cap, ")"), errno);
    // No CAP_SETPCAP: acceptable only for a capability already gone.
    if (prctl(PR_CAPBSET_READ, cap, 0, 0, 0) != 0) {
      return absl::FailedPreconditionError(absl::StrCat(
          "cannot drop capability ", cap,
          " from the bounding set (needs CAP_SETPCAP): the workload would start with it"));
    }
  }
  if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0) {
    return ErrnoStatus("clearing the ambient capability set", errno);
  }
  __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3] = {};
  RETURN_IF_ERROR(ReadCapSets(data));
  for (__user_cap_data_struct& d : data) d.inheritable = 0;
  __user_cap_header_struct header{.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
  if (syscall(SYS_capset, &header, data) != 0) {
    return ErrnoStatus("clearing the inheritable capability set", errno);
  }
  // What the exec computes the workload's sets from (capabilities(7)): the
  // bounding set, checked at its first and last known capability, and the
  // inheritable set (the ambient set is a subset of it, so it is empty too).
  RETURN_IF_ERROR(ReadCapSets(data));
  for (const __user_cap_data_struct& d : data) {
    if (d.inheritable != 0) return absl::InternalError("the inheritable set is not empty");
  }
  if (prctl(PR_CAPBSET_READ, CAP_CHOWN, 0, 0, 0) != 0 ||
      prctl(PR_CAPBSET_READ, CAP_LAST_CAP, 0, 0, 0) != 0) {
    return absl::InternalError("the bounding set is not empty");
  }
  return absl::OkStatus();
}

}  // namespace fdattest
