#include "launcher/faults.h"

#ifdef FDATTEST_LAUNCHER_FAULTS
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#endif

namespace fdattest {

#ifndef FDATTEST_LAUNCHER_FAULTS

Fault ActiveFault() { return Fault::kNone; }
absl::Status InjectBeforeRoot(const std::set<int>&, int) { return absl::OkStatus(); }
absl::Status InjectAfterClose() { return absl::OkStatus(); }
std::string AllowAllFilter() { return ""; }

#else

namespace {

// A fresh description of what `fd` names, opened with `flags`, at `fd`.
absl::Status ReopenAt(const std::string& path, int flags, int fd) {
  const int other = open(path.c_str(), flags | O_CLOEXEC);
  if (other < 0) return ErrnoStatus(absl::StrCat("fault: open ", path), errno);
  const int placed = dup3(other, fd, 0);
  const int err = errno;
  close(other);
  if (placed != fd) return ErrnoStatus(absl::StrCat("fault: dup3 onto ", fd), err);
  return absl::OkStatus();
}

}  // namespace

Fault ActiveFault() {
  const char* name = getenv("FDLAUNCH_FAULT");
  if (name == nullptr) return Fault::kNone;
  const absl::string_view n(name);
  if (n == "filter-bytes") return Fault::kFilterBytes;
  if (n == "second-filter") return Fault::kSecondFilter;
  if (n == "extra-fd") return Fault::kExtraFd;
  if (n == "other-inode") return Fault::kOtherInode;
  if (n == "open-mode") return Fault::kOpenMode;
  if (n == "no-nnp") return Fault::kNoNnp;
  if (n == "capability") return Fault::kCapability;
  if (n == "other-exe") return Fault::kOtherExe;
  return Fault::kNone;
}

absl::Status InjectBeforeRoot(const std::set<int>& declared, int exe_fd) {
  switch (ActiveFault()) {
    case Fault::kOtherInode:
    case Fault::kOpenMode: {
      // The first declared descriptor that is a read-only regular file.
      for (int fd : declared) {
        const int flags = fcntl(fd, F_GETFL);
        if (flags < 0 || (flags & O_ACCMODE) != O_RDONLY) continue;
        if (ActiveFault() == Fault::kOpenMode) {
          return ReopenAt(absl::StrCat("/proc/self/fd/", fd), O_RDWR, fd);
        }
        // Another file: this program's own executable, read-only too.
        return ReopenAt("/proc/self/exe", O_RDONLY, fd);
      }
      return absl::FailedPreconditionError("fault: no declared read-only descriptor");
    }
    case Fault::kOtherExe: {
      // The measured descriptor number now names this program instead.
      const int other = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
      if (other < 0) return ErrnoStatus("fault: open /proc/self/exe", errno);
      const int placed = dup3(other, exe_fd, O_CLOEXEC);
      const int err = errno;
      close(other);
      if (placed != exe_fd) return ErrnoStatus("fault: dup3 onto the executable", err);
      return absl::OkStatus();
    }
    default:
      return absl::OkStatus();
  }
}

absl::Status InjectAfterClose() {
  if (ActiveFault() != Fault::kExtraFd) return absl::OkStatus();
  if (eventfd(0, 0) < 0) return ErrnoStatus("fault: eventfd", errno);
  return absl::OkStatus();
}

std::string AllowAllFilter() {
  const sock_filter allow = BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
  return std::string(reinterpret_cast<const char*>(&allow), sizeof(allow));
}

#endif  // FDATTEST_LAUNCHER_FAULTS

}  // namespace fdattest
