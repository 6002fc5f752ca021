#include "launcher/filter_cache.h"

#include <fcntl.h>
#include <limits.h>
#include <linux/filter.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/file_io.h"
#include "common/profile.h"

namespace fdattest {
namespace {

constexpr size_t kMaxFilterBytes = BPF_MAXINSNS * sizeof(sock_filter);
// The longest entry name: "errno-x" + the exec fd + "-NNNrw" per declared fd +
// ".bpf" always fits in a file name.
static_assert(7 + 3 + kMaxDeclaredFds * 6 + 4 <= NAME_MAX);

absl::StatusOr<std::string> LauncherIdentity() {
  struct stat st {};
  if (stat("/proc/self/exe", &st) != 0) return ErrnoStatus("stat /proc/self/exe", errno);
  return absl::StrCat(st.st_dev, ":", st.st_ino, ":", st.st_size, ":", st.st_mtim.tv_sec, ".",
                      st.st_mtim.tv_nsec, ":", st.st_ctim.tv_sec, ".", st.st_ctim.tv_nsec);
}

}  // namespace

absl::StatusOr<FilterCache> FilterCache::Open(const std::string& dir) {
  auto refuse = [&](absl::string_view why) {
    return absl::FailedPreconditionError(absl::StrCat("filter cache ", dir, ": ", why));
  };
  if (dir.empty()) return refuse("empty path");
  UniqueFd fd(open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd) return ErrnoStatus(absl::StrCat("filter cache ", dir), errno);
  struct stat st {};
  if (fstat(fd.get(), &st) != 0) return ErrnoStatus(absl::StrCat("filter cache ", dir), errno);
  if (st.st_uid != geteuid() && st.st_uid != 0) {
    return refuse(absl::StrCat("owned by uid ", st.st_uid, ", not by uid ", geteuid(), " or root"));
  }
  if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0) return refuse("writable by group or others");
  ASSIGN_OR_RETURN(std::string id, LauncherIdentity());
  return FilterCache(dir, std::move(fd), Header(id));
}

std::string FilterCache::Header(absl::string_view launcher_id) {
  return absl::StrCat("fdattest filter cache 1 launcher ", launcher_id, "\n");
}

std::string FilterCache::EntryName(const FilterSpec& spec) {
  std::string name = absl::StrCat(spec.on_violation == OnViolation::kErrno ? "errno" : "kill",
                                  "-x", spec.exec_fd);
  for (const FilterFd& f : spec.fds) absl::StrAppend(&name, "-", f.fd, AccessName(f.access));
  return name + ".bpf";
}

std::string FilterCache::PathOf(const FilterSpec& spec) const {
  return absl::StrCat(dir_, "/", EntryName(spec));
}

absl::StatusOr<std::optional<std::string>> FilterCache::Find(const FilterSpec& spec) const {
  const std::string name = EntryName(spec);
  // O_NONBLOCK: a FIFO planted as an entry must not hang the launch.
  UniqueFd fd(openat(dir_fd_.get(), name.c_str(),
                     O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY));
  if (!fd) {
    if (errno == ENOENT) return std::nullopt;
    return ErrnoStatus(absl::StrCat("cached filter ", PathOf(spec)), errno);
  }
  struct stat st {};
  if (fstat(fd.get(), &st) != 0) {
    return ErrnoStatus(absl::StrCat("cached filter ", PathOf(spec)), errno);
  }
  if (!S_ISREG(st.st_mode)) {
    return absl::DataLossError(
        absl::StrCat("cached filter ", PathOf(spec), " is not a regular file (remove it)"));
  }
  const auto size = static_cast<size_t>(st.st_size);
  if (size > header_.size() + kMaxFilterBytes) {
    return absl::DataLossError(
        absl::StrCat("cached filter ", PathOf(spec), " is not a BPF program (remove it)"));
  }
  std::string entry(size, '\0');
  ssize_t n = pread(fd.get(), entry.data(), size, 0);
  if (n < 0) return ErrnoStatus(absl::StrCat("cached filter ", PathOf(spec)), errno);
  if (static_cast<size_t>(n) != size) {
    return absl::DataLossError(absl::StrCat("cached filter ", PathOf(spec), " changed while read"));
  }
  if (!absl::StartsWith(entry, header_)) return std::nullopt;  // another launcher's
  // Whether the rest is a BPF program at all is the proof's first check.
  return entry.substr(header_.size());
}

absl::Status FilterCache::Store(const FilterSpec& spec, absl::string_view bpf) const {
  return WriteFileAtomic(PathOf(spec), absl::StrCat(header_, bpf), 0600);
}

}  // namespace fdattest
