#include "launcher/capabilities.h"

#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>

#include "absl/strings/str_cat.h"

namespace fdattest {
namespace {

// Every capability number the running kernel knows: PR_CAPBSET_READ answers
// EINVAL past the last one (/proc/sys/kernel/cap_last_cap, which is not
// reachable from the empty root).
template <typename Fn>
absl::Status ForEachKnownCapability(Fn fn) {
  for (int cap = 0;; ++cap) {
    int in_bounding = prctl(PR_CAPBSET_READ, cap, 0, 0, 0);
    if (in_bounding < 0) {
      if (errno == EINVAL && cap > 0) return absl::OkStatus();
      return ErrnoStatus(absl::StrCat("prctl(PR_CAPBSET_READ, ", cap, ")"), errno);
    }
    RETURN_IF_ERROR(fn(cap, in_bounding == 1));
  }
}

absl::Status ReadCapSets(__user_cap_data_struct (&data)[_LINUX_CAPABILITY_U32S_3]) {
  __user_cap_header_struct header{.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
  if (syscall(SYS_capget, &header, data) != 0) return ErrnoStatus("capget", errno);
  return absl::OkStatus();
}

}  // namespace

absl::Status DropCapabilitiesForExec() {
  if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0) {
    return ErrnoStatus("clearing the ambient capability set", errno);
  }
  RETURN_IF_ERROR(ForEachKnownCapability([](int cap, bool in_bounding) -> absl::Status {
    if (!in_bounding || prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) == 0) return absl::OkStatus();
    if (errno == EPERM) {
      return absl::FailedPreconditionError(absl::StrCat(
          "cannot drop capability ", cap,
          " from the bounding set (needs CAP_SETPCAP): the workload would start with it"));
    }
    return ErrnoStatus(absl::StrCat("prctl(PR_CAPBSET_DROP, ", cap, ")"), errno);
  }));

  __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3] = {};
  RETURN_IF_ERROR(ReadCapSets(data));
  for (__user_cap_data_struct& d : data) d.inheritable = 0;
  __user_cap_header_struct header{.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
  if (syscall(SYS_capset, &header, data) != 0) {
    return ErrnoStatus("clearing the inheritable capability set", errno);
  }

  // Read back what the exec will use; a set that is not empty ends the launch.
  RETURN_IF_ERROR(ReadCapSets(data));
  for (const __user_cap_data_struct& d : data) {
    if (d.inheritable != 0) return absl::InternalError("the inheritable set is not empty");
  }
  return ForEachKnownCapability([](int cap, bool in_bounding) -> absl::Status {
    if (in_bounding) {
      return absl::InternalError(absl::StrCat("capability ", cap, " is still in the bounding set"));
    }
    int ambient = prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, cap, 0, 0);
    if (ambient != 0) {
      return ambient < 0 ? ErrnoStatus(absl::StrCat("prctl(PR_CAP_AMBIENT_IS_SET, ", cap, ")"), errno)
                         : absl::InternalError(absl::StrCat("capability ", cap, " is still ambient"));
    }
    return absl::OkStatus();
  });
}

}  // namespace fdattest
