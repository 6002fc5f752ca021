#include "launcher/empty_root.h"

#include <sched.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>

namespace fdattest {

absl::Status EnterEmptyRoot() {
  if (unshare(CLONE_NEWNS) != 0) {
    if (errno == EPERM) {
      return absl::FailedPreconditionError(
          "cannot create a mount namespace (needs CAP_SYS_ADMIN): the workload's empty root "
          "cannot be set up; run fdlaunch as root");
    }
    return ErrnoStatus("unshare(CLONE_NEWNS)", errno);
  }
  // Nothing done below may propagate back to the host's mounts.
  if (mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) {
    return ErrnoStatus("making mounts private", errno);
  }
  // /proc always exists; in this namespace it only serves as a mount point
  // for the new root.
  constexpr char kMountPoint[] = "/proc";
  if (mount("fdattest-empty", kMountPoint, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
            "size=4k,nr_inodes=1,mode=0555") != 0) {
    return ErrnoStatus("mounting the empty root", errno);
  }
  if (chdir(kMountPoint) != 0) return ErrnoStatus("chdir to the empty root", errno);
  // pivot_root(".", ".") stacks the old root on the new one; detaching it
  // leaves only the empty tmpfs.
  if (syscall(SYS_pivot_root, ".", ".") != 0) return ErrnoStatus("pivot_root", errno);
  if (umount2(".", MNT_DETACH) != 0) return ErrnoStatus("detaching the old root", errno);
  if (chdir("/") != 0) return ErrnoStatus("chdir /", errno);
  if (mount(nullptr, "/", nullptr, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
            nullptr) != 0) {
    return ErrnoStatus("making the empty root read-only", errno);
  }
  return absl::OkStatus();
}

}  // namespace fdattest
