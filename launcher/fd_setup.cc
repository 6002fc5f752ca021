#include "launcher/fd_setup.h"

#include <dirent.h>
#include <fcntl.h>
#include <netdb.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/unique_fd.h"

namespace fdattest {
namespace {

absl::StatusOr<UniqueFd> ConnectUnix(const std::string& path) {
  UniqueFd s(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!s) return ErrnoStatus("socket(AF_UNIX)", errno);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  memcpy(addr.sun_path, path.data(), path.size());  // length checked by the profile parser
  if (connect(s.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    return ErrnoStatus(absl::StrCat("cannot connect to unix:", path), errno);
  }
  return s;
}

absl::StatusOr<UniqueFd> ConnectTcp(const std::string& host_port) {
  size_t colon = host_port.rfind(':');
  std::string host = host_port.substr(0, colon);
  std::string port = host_port.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV;
  addrinfo* res = nullptr;
  int rc = getaddrinfo(host.c_str(), port.c_str(), &hints, &res);
  if (rc != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot resolve tcp:", host_port, ": ", gai_strerror(rc)));
  }
  std::unique_ptr<addrinfo, decltype(&freeaddrinfo)> owner(res, freeaddrinfo);
  int last_errno = ECONNREFUSED;
  for (addrinfo* ai = res; ai != nullptr; ai = ai->ai_next) {
    UniqueFd s(socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol));
    if (!s) {
      last_errno = errno;
      continue;
    }
    if (connect(s.get(), ai->ai_addr, ai->ai_addrlen) == 0) return s;
    last_errno = errno;
  }
  return ErrnoStatus(absl::StrCat("cannot connect to tcp:", host_port), last_errno);
}

// Open flags for a declared access; never O_CREAT or O_TRUNC: step 4 changes
// nothing on disk (PendingFileChanges::Commit creates and truncates).
int OpenFlags(Access a) {
  switch (a) {
    case Access::kRead: return O_RDONLY;
    case Access::kWrite: return O_WRONLY;
    case Access::kReadWrite: return O_RDWR;
    case Access::kAppend: return O_WRONLY | O_APPEND;
  }
  return O_RDONLY;
}

std::string FdName(const FdSpec& spec) {
  return absl::StrCat("fd ", spec.fd, " (", spec.role, ")");
}

absl::Status CheckInheritedMode(const FdSpec& spec) {
  int fl = fcntl(spec.fd, F_GETFL);
  if (fl < 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "fd ", spec.fd, " (", spec.role, ") is declared \"inherit\" but is not open"));
  }
  if (fl & O_PATH) {
    return absl::InvalidArgumentError(
        absl::StrCat("fd ", spec.fd, " (", spec.role, ") is an O_PATH descriptor"));
  }
  int acc = fl & O_ACCMODE;
  bool writable = acc == O_WRONLY || acc == O_RDWR;
  bool ok = true;
  std::string need;
  switch (spec.access) {
    // Exactly read-only: a writable description declared "r" could still be
    // written through a shared mapping or vmsplice, which the filter allows
    // on readable fds.
    case Access::kRead: ok = acc == O_RDONLY; need = "open read-only"; break;
    case Access::kWrite: ok = writable; need = "writable"; break;
    case Access::kReadWrite: ok = acc == O_RDWR; need = "open read-write"; break;
    case Access::kAppend: ok = writable && (fl & O_APPEND); need = "writable with O_APPEND"; break;
  }
  if (!ok) {
    return absl::InvalidArgumentError(absl::StrCat(
        "fd ", spec.fd, " (", spec.role, ") is declared access \"", AccessName(spec.access),
        "\" but the inherited descriptor is not ", need));
  }
  return absl::OkStatus();
}

// Puts `fd` at number `target` without close-on-exec.
absl::Status PlaceAt(UniqueFd fd, int target) {
  if (fd.get() == target) {
    if (fcntl(target, F_SETFD, 0) != 0) return ErrnoStatus("fcntl(F_SETFD)", errno);
    fd.release();
    return absl::OkStatus();
  }
  if (dup3(fd.get(), target, 0) != target) {
    return ErrnoStatus(absl::StrCat("dup3 onto fd ", target), errno);
  }
  return absl::OkStatus();
}

// Opens an existing profile path. A file that does not exist (and may be
// created: not "r") gives an invalid UniqueFd, for CheckNewFile.
absl::StatusOr<UniqueFd> OpenExisting(const FdSpec& spec) {
  UniqueFd fd(open(spec.target.c_str(), OpenFlags(spec.access) | O_CLOEXEC | O_NOCTTY));
  if (fd || (errno == ENOENT && spec.access != Access::kRead)) return fd;
  const int err = errno;
  absl::Status status = ErrnoStatus(absl::StrCat(FdName(spec), ": cannot open ", spec.target), err);
  if (err != ENOENT) return status;
  return absl::Status(status.code(), absl::StrCat(status.message(),
                                                  " (a file declared \"r\" must exist: it is "
                                                  "read, never created)"));
}

// Puts a close-on-exec /dev/null at `target`, so nothing else takes the number
// before the file is created (and nothing of it reaches an exec by mistake).
absl::Status HoldNumber(int target) {
  UniqueFd null(open("/dev/null", O_RDONLY | O_CLOEXEC));
  if (!null) return ErrnoStatus("cannot open /dev/null", errno);
  if (null.get() == target) {
    null.release();  // the lowest free number was the one to hold
    return absl::OkStatus();
  }
  if (dup3(null.get(), target, O_CLOEXEC) != target) {
    return ErrnoStatus(absl::StrCat("dup3 onto fd ", target), errno);
  }
  return absl::OkStatus();
}

// The descriptor of a null or connect source.
absl::StatusOr<UniqueFd> OpenSource(const FdSpec& spec) {
  switch (spec.source) {
    case FdSource::kNull: {
      UniqueFd fd(open("/dev/null", OpenFlags(spec.access) | O_CLOEXEC));
      if (!fd) return ErrnoStatus("cannot open /dev/null", errno);
      return fd;
    }
    case FdSource::kConnect: {
      absl::StatusOr<UniqueFd> s = spec.target.rfind("unix:", 0) == 0
                                       ? ConnectUnix(spec.target.substr(5))
                                       : ConnectTcp(spec.target.substr(4));
      if (!s.ok()) {
        return absl::Status(s.status().code(),
                            absl::StrCat(FdName(spec), ": ", s.status().message()));
      }
      if (spec.access == Access::kRead && shutdown(s->get(), SHUT_WR) != 0) {
        return ErrnoStatus("shutdown(SHUT_WR)", errno);
      }
      if (spec.access == Access::kWrite && shutdown(s->get(), SHUT_RD) != 0) {
        return ErrnoStatus("shutdown(SHUT_RD)", errno);
      }
      return s;
    }
    case FdSource::kInherit:
    case FdSource::kOpen:
    case FdSource::kSecret:
      break;
  }
  return absl::InternalError("OpenSource called for an inherited, opened or secret fd");
}

}  // namespace

absl::StatusOr<std::vector<int>> ListOpenFds() {
  DIR* dir = opendir("/proc/self/fd");
  if (dir == nullptr) return ErrnoStatus("opendir /proc/self/fd", errno);
  std::vector<int> fds;
  const int own = dirfd(dir);
  while (dirent* e = readdir(dir)) {
    int fd;
    if (absl::SimpleAtoi(e->d_name, &fd) && fd != own) fds.push_back(fd);
  }
  closedir(dir);
  std::sort(fds.begin(), fds.end());
  return fds;
}

absl::Status CloseAllExcept(const std::set<int>& keep) {
  unsigned int next = 0;
  for (int fd : keep) {
    if (fd < 0) continue;
    if (static_cast<unsigned>(fd) > next &&
        syscall(SYS_close_range, next, static_cast<unsigned>(fd) - 1, 0) != 0) {
      return ErrnoStatus("close_range", errno);
    }
    next = static_cast<unsigned>(fd) + 1;
  }
  if (syscall(SYS_close_range, next, ~0U, 0) != 0) return ErrnoStatus("close_range", errno);
  return absl::OkStatus();
}

absl::StatusOr<std::vector<FdFingerprint>> CloseUndeclaredFds(const Profile& profile,
                                                              const std::set<int>& keep,
                                                              const MountTable* mounts) {
  if (mounts == nullptr) {
    // Nothing is recorded, so nothing needs listing: close the gaps.
    std::set<int> kept = keep;
    for (const FdSpec& spec : profile.fds) {
      if (spec.source == FdSource::kInherit) kept.insert(spec.fd);
    }
    RETURN_IF_ERROR(CloseAllExcept(kept));
    return std::vector<FdFingerprint>{};
  }
  ASSIGN_OR_RETURN(std::vector<int> open_fds, ListOpenFds());
  std::vector<FdFingerprint> closed;
  for (int fd : open_fds) {
    if (keep.contains(fd)) continue;
    const FdSpec* spec = profile.Find(fd);
    if (spec != nullptr && spec->source == FdSource::kInherit) continue;
    if (mounts == nullptr) {
      CloseRawFd(fd);
      continue;
    }
    absl::StatusOr<FdFingerprint> fp = FingerprintFd(fd, *mounts, /*hash_content=*/false);
    if (!fp.ok()) {
      return absl::Status(fp.status().code(), absl::StrCat("cannot fingerprint inherited fd ", fd,
                                                           ": ", fp.status().message()));
    }
    fp->source = "inherited";
    char buf[4096];
    ssize_t n = readlink(absl::StrCat("/proc/self/fd/", fd).c_str(), buf, sizeof(buf) - 1);
    if (n > 0) fp->path = std::string(buf, static_cast<size_t>(n));
    closed.push_back(*std::move(fp));
    CloseRawFd(fd);
  }
  return closed;
}

PendingFileChanges::~PendingFileChanges() { RemoveCreated(); }

std::vector<int> PendingFileChanges::DirectoryFds() const {
  std::vector<int> fds;
  for (const NewFile& nf : new_files_) {
    if (nf.dir) fds.push_back(nf.dir.get());
  }
  return fds;
}

// Removes each file this launch created, by its directory and name and only
// while that name is still the inode created: a file put there since is not
// ours to remove.
void PendingFileChanges::RemoveCreated() {
  for (auto it = new_files_.rbegin(); it != new_files_.rend(); ++it) {
    if (!it->created || !it->dir) continue;
    struct stat st {};
    if (fstatat(it->dir.get(), it->name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 &&
        st.st_dev == it->dev && st.st_ino == it->ino) {
      unlinkat(it->dir.get(), it->name.c_str(), 0);
    }
    it->created = false;
  }
}

// Step 4 for a file that does not exist yet: opens its directory once (kept
// above every declared number) and checks that the file can be created there,
// without creating it.
absl::StatusOr<PendingFileChanges::NewFile> PendingFileChanges::CheckNewFile(const FdSpec& spec,
                                                                             int above) {
  NewFile nf;
  nf.spec = &spec;
  const size_t slash = spec.target.rfind('/');  // the parser allows only absolute paths
  const std::string dir_path = slash == 0 ? "/" : spec.target.substr(0, slash);
  nf.name = spec.target.substr(slash + 1);
  const std::string what = absl::StrCat(FdName(spec), ": cannot create ", spec.target);
  if (nf.name.empty() || nf.name == "." || nf.name == "..") {
    return absl::InvalidArgumentError(absl::StrCat(what, ": the path names a directory"));
  }
  UniqueFd dir(open(dir_path.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!dir) return ErrnoStatus(absl::StrCat(what, ": its directory ", dir_path), errno);
  nf.dir = UniqueFd(fcntl(dir.get(), F_DUPFD_CLOEXEC, above));
  if (!nf.dir) return ErrnoStatus("fcntl(F_DUPFD_CLOEXEC)", errno);
  struct stat st {};
  if (fstatat(nf.dir.get(), nf.name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0) {
    // open() said ENOENT, yet the name is taken: a dangling symbolic link.
    return absl::InvalidArgumentError(absl::StrCat(
        what, ": the name is taken by ",
        S_ISLNK(st.st_mode) ? "a symbolic link that leads nowhere" : "a file that just appeared",
        "; nothing is created through it"));
  }
  if (errno != ENOENT) return ErrnoStatus(what, errno);
  if (faccessat(nf.dir.get(), ".", W_OK | X_OK, AT_EACCESS) != 0) {
    return ErrnoStatus(absl::StrCat(what, ": its directory ", dir_path, " is not writable"), errno);
  }
  return nf;
}

absl::Status PendingFileChanges::Commit() {
  for (NewFile& nf : new_files_) {
    const FdSpec& spec = *nf.spec;
    const int flags = OpenFlags(spec.access) | O_CLOEXEC | O_NOCTTY;
    UniqueFd fd;
    if (nf.same_as < 0) {
      // O_EXCL: the name must still be free (no file or symlink put there
      // since step 4), so the file is ours to remove if the launch fails.
      fd = UniqueFd(openat(nf.dir.get(), nf.name.c_str(), flags | O_CREAT | O_EXCL, 0600));
    } else {
      // A second fd on a path created above: the same file, by its inode.
      const NewFile& first = new_files_[static_cast<size_t>(nf.same_as)];
      fd = UniqueFd(openat(first.dir.get(), first.name.c_str(), flags | O_NOFOLLOW));
      struct stat st {};
      if (fd && (fstat(fd.get(), &st) != 0 || st.st_dev != first.dev || st.st_ino != first.ino)) {
        fd.reset();
        errno = ESTALE;
      }
    }
    if (!fd) {
      const int err = errno;
      RemoveCreated();
      return ErrnoStatus(absl::StrCat(FdName(spec), ": cannot create ", spec.target), err);
    }
    struct stat st {};
    if (fstat(fd.get(), &st) != 0) {
      const int err = errno;
      RemoveCreated();
      return ErrnoStatus(absl::StrCat("fstat ", spec.target), err);
    }
    nf.created = nf.same_as < 0;
    nf.dev = st.st_dev;
    nf.ino = st.st_ino;
    if (absl::Status placed = PlaceAt(std::move(fd), spec.fd); !placed.ok()) {
      RemoveCreated();
      return placed;
    }
  }
  // Truncation cannot be undone, so it comes last. Like O_TRUNC, it applies
  // to regular files only (a FIFO or a device has no content to lose).
  for (int number : truncate_) {
    struct stat st {};
    if (fstat(number, &st) != 0) return ErrnoStatus(absl::StrCat("fstat fd ", number), errno);
    if (S_ISREG(st.st_mode) && ftruncate(number, 0) != 0) {
      return ErrnoStatus(absl::StrCat("cannot truncate the file of fd ", number), errno);
    }
  }
  truncate_.clear();
  return absl::OkStatus();
}

absl::StatusOr<PendingFileChanges> EstablishDeclaredFds(const Profile& profile) {
  PendingFileChanges changes;
  // Inherited descriptors are checked first: they cannot fail half-way.
  for (const FdSpec& spec : profile.fds) {
    if (spec.source != FdSource::kInherit) continue;
    RETURN_IF_ERROR(CheckInheritedMode(spec));
    if (fcntl(spec.fd, F_SETFD, 0) != 0) return ErrnoStatus("fcntl(F_SETFD)", errno);
  }
  const int above = profile.fds.empty() ? 3 : profile.fds.back().fd + 1;
  for (const FdSpec& spec : profile.fds) {
    // Secret fds are launcher/secret_fd.h's (PendingSecrets::Establish).
    if (spec.source == FdSource::kInherit || spec.source == FdSource::kSecret) continue;
    if (spec.source != FdSource::kOpen) {
      ASSIGN_OR_RETURN(UniqueFd fd, OpenSource(spec));
      RETURN_IF_ERROR(PlaceAt(std::move(fd), spec.fd));
      continue;
    }
    ASSIGN_OR_RETURN(UniqueFd fd, OpenExisting(spec));
    if (fd) {
      RETURN_IF_ERROR(PlaceAt(std::move(fd), spec.fd));
      if (spec.access == Access::kWrite) changes.truncate_.push_back(spec.fd);
      continue;
    }
    int same_as = -1;
    for (size_t i = 0; i < changes.new_files_.size(); ++i) {
      if (changes.new_files_[i].spec->target == spec.target) same_as = static_cast<int>(i);
    }
    if (same_as >= 0) {
      PendingFileChanges::NewFile nf;
      nf.spec = &spec;
      nf.same_as = same_as;
      changes.new_files_.push_back(std::move(nf));
    } else {
      ASSIGN_OR_RETURN(PendingFileChanges::NewFile nf,
                       PendingFileChanges::CheckNewFile(spec, above));
      changes.new_files_.push_back(std::move(nf));
    }
    RETURN_IF_ERROR(HoldNumber(spec.fd));
  }
  return changes;
}

absl::StatusOr<std::vector<FdFingerprint>> FingerprintDeclaredFds(const Profile& profile,
                                                                  const MountTable& mounts) {
  std::vector<FdFingerprint> out;
  for (const FdSpec& spec : profile.fds) {
    ASSIGN_OR_RETURN(FdFingerprint fp, FingerprintFd(spec.fd, mounts, spec.hash_content));
    fp.role = spec.role;
    fp.access = std::string(AccessName(spec.access));
    fp.source = std::string(SourceName(spec.source));
    if (spec.source == FdSource::kOpen || spec.source == FdSource::kConnect) fp.path = spec.target;
    if (spec.source == FdSource::kNull) fp.path = "/dev/null";
    if (spec.source == FdSource::kSecret) fp.secret = spec.target;
    out.push_back(std::move(fp));
  }
  return out;
}

}  // namespace fdattest
