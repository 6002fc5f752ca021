#include "launcher/fd_setup.h"

#include <dirent.h>
#include <fcntl.h>
#include <netdb.h>
#include <sys/socket.h>
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

int OpenFlags(Access a) {
  switch (a) {
    case Access::kRead: return O_RDONLY;
    case Access::kWrite: return O_WRONLY | O_CREAT;  // truncated later: TruncateOutputs
    case Access::kReadWrite: return O_RDWR | O_CREAT;
    case Access::kAppend: return O_WRONLY | O_APPEND | O_CREAT;
  }
  return O_RDONLY;
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

// Opens a profile path; O_CREAT first tries O_EXCL so a new file is known to
// be ours and can be removed if the launch fails.
absl::StatusOr<UniqueFd> OpenPath(const FdSpec& spec, CreatedFiles& created) {
  const int flags = OpenFlags(spec.access) | O_CLOEXEC | O_NOCTTY;
  if (flags & O_CREAT) {
    UniqueFd fd(open(spec.target.c_str(), flags | O_EXCL, 0600));
    if (fd) {
      created.Add(spec.target);
      return fd;
    }
    if (errno != EEXIST) {
      return ErrnoStatus(absl::StrCat("fd ", spec.fd, " (", spec.role, "): cannot open ", spec.target),
                         errno);
    }
  }
  UniqueFd fd(open(spec.target.c_str(), flags & ~O_CREAT));
  if (!fd) {
    return ErrnoStatus(absl::StrCat("fd ", spec.fd, " (", spec.role, "): cannot open ", spec.target),
                       errno);
  }
  return fd;
}

absl::StatusOr<UniqueFd> OpenSource(const FdSpec& spec, CreatedFiles& created) {
  switch (spec.source) {
    case FdSource::kOpen:
      return OpenPath(spec, created);
    case FdSource::kNull: {
      int flags = spec.access == Access::kRead ? O_RDONLY
                  : spec.access == Access::kReadWrite ? O_RDWR
                  : spec.access == Access::kAppend ? (O_WRONLY | O_APPEND) : O_WRONLY;
      UniqueFd fd(open("/dev/null", flags | O_CLOEXEC));
      if (!fd) return ErrnoStatus("cannot open /dev/null", errno);
      return fd;
    }
    case FdSource::kConnect: {
      absl::StatusOr<UniqueFd> s = spec.target.rfind("unix:", 0) == 0
                                       ? ConnectUnix(spec.target.substr(5))
                                       : ConnectTcp(spec.target.substr(4));
      if (!s.ok()) {
        return absl::Status(s.status().code(),
                            absl::StrCat("fd ", spec.fd, " (", spec.role, "): ", s.status().message()));
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
      break;
  }
  return absl::InternalError("OpenSource called for an inherited fd");
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

CreatedFiles::~CreatedFiles() {
  for (const std::string& p : paths_) unlink(p.c_str());
}

absl::Status EstablishDeclaredFds(const Profile& profile, CreatedFiles& created) {
  // Inherited descriptors are checked first: they cannot fail half-way.
  for (const FdSpec& spec : profile.fds) {
    if (spec.source != FdSource::kInherit) continue;
    RETURN_IF_ERROR(CheckInheritedMode(spec));
    if (fcntl(spec.fd, F_SETFD, 0) != 0) return ErrnoStatus("fcntl(F_SETFD)", errno);
  }
  for (const FdSpec& spec : profile.fds) {
    if (spec.source == FdSource::kInherit) continue;
    ASSIGN_OR_RETURN(UniqueFd fd, OpenSource(spec, created));
    RETURN_IF_ERROR(PlaceAt(std::move(fd), spec.fd));
  }
  return absl::OkStatus();
}

absl::Status TruncateOutputs(const Profile& profile) {
  for (const FdSpec& spec : profile.fds) {
    if (spec.source == FdSource::kOpen && spec.access == Access::kWrite &&
        ftruncate(spec.fd, 0) != 0) {
      return ErrnoStatus(absl::StrCat("cannot truncate ", spec.target), errno);
    }
  }
  return absl::OkStatus();
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
    out.push_back(std::move(fp));
  }
  return out;
}

}  // namespace fdattest
