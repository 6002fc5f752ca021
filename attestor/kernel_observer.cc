#include "attestor/kernel_observer.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <poll.h>
#include <signal.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/fingerprint.h"
#include "common/sha256.h"

#ifndef SO_PEERPIDFD
#define SO_PEERPIDFD 77
#endif
#ifndef PTRACE_SECCOMP_GET_FILTER
#define PTRACE_SECCOMP_GET_FILTER 0x420c
#endif

namespace fdattest {
namespace {

// The namespaces the launcher records (launcher/launch.cc, DescribeProcess).

absl::Status Gone() { return absl::NotFoundError("gone: the process has exited"); }

int PidfdOpen(pid_t pid) { return static_cast<int>(syscall(SYS_pidfd_open, pid, 0)); }

long Ptrace(int request, pid_t pid, unsigned long addr, void* data) {
  return ptrace(static_cast<__ptrace_request>(request), pid, addr, data);
}

// Reads a whole small file opened relative to `dir` (a /proc/PID dirfd).
absl::StatusOr<std::string> ReadAt(int dir, const char* name) {
  UniqueFd fd(openat(dir, name, O_RDONLY | O_CLOEXEC));
  if (!fd) return ErrnoStatus(absl::StrCat("open /proc/PID/", name), errno);
  std::string out;
  char buf[8192];
  for (;;) {
    ssize_t n = read(fd.get(), buf, sizeof(buf));
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus(absl::StrCat("read /proc/PID/", name), errno);
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
    if (out.size() > (1u << 22)) {
      return absl::InternalError(absl::StrCat("/proc/PID/", name, " is too large"));
    }
  }
  return out;
}

// The value of "Key:\tvalue" in a /proc status-like text.
std::optional<std::string> Field(absl::string_view text, absl::string_view key) {
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    if (absl::ConsumePrefix(&line, key) && absl::ConsumePrefix(&line, ":")) {
      return std::string(absl::StripAsciiWhitespace(line));
    }
  }
  return std::nullopt;
}

// The pid a pidfd names, from this process's fdinfo of it; NotFound when the
// process has been reaped (the kernel shows -1).
absl::StatusOr<pid_t> PidOfPidfd(int pidfd) {
  UniqueFd self(open("/proc/self/fdinfo", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!self) return ErrnoStatus("open /proc/self/fdinfo", errno);
  ASSIGN_OR_RETURN(std::string info, ReadAt(self.get(), std::to_string(pidfd).c_str()));
  std::optional<std::string> pid = Field(info, "Pid");
  int value = 0;
  if (!pid.has_value() || !absl::SimpleAtoi(*pid, &value)) {
    return absl::InvalidArgumentError(absl::StrCat("fd ", pidfd, " is not a pidfd"));
  }
  if (value <= 0) return Gone();
  return static_cast<pid_t>(value);
}

// /proc/PID as a directory fd, checked to be the process behind `pidfd`: the
// process is still alive after the open, so the pid was not reused meanwhile,
// and the directory stays bound to that process afterwards.
absl::StatusOr<UniqueFd> OpenProcDir(int pidfd, pid_t pid) {
  UniqueFd dir(open(absl::StrCat("/proc/", pid).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dir) {
    if (errno == ENOENT) return Gone();
    return ErrnoStatus(absl::StrCat("open /proc/", pid), errno);
  }
  if (ProcessGone(pidfd)) return Gone();
  return dir;
}

// Field 22 of /proc/PID/stat: the start time, in clock ticks after boot.
absl::StatusOr<uint64_t> StartTimeOf(pid_t pid) {
  UniqueFd dir(open(absl::StrCat("/proc/", pid).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dir) return Gone();
  ASSIGN_OR_RETURN(std::string stat, ReadAt(dir.get(), "stat"));
  size_t paren = stat.rfind(')');
  if (paren == std::string::npos) return absl::InternalError("malformed /proc/PID/stat");
  std::vector<absl::string_view> fields =
      absl::StrSplit(absl::string_view(stat).substr(paren + 2), ' ');
  uint64_t start = 0;
  // After the command: state is field 3, start time field 22.
  if (fields.size() < 20 || !absl::SimpleAtoi(fields[19], &start)) {
    return absl::InternalError("malformed /proc/PID/stat");
  }
  return start;
}

absl::StatusOr<std::string> DigestAt(int dir) {
  UniqueFd exe(openat(dir, "exe", O_RDONLY | O_CLOEXEC));
  if (!exe) {
    if (errno == ENOENT || errno == ESRCH) return Gone();
    return ErrnoStatus("open /proc/PID/exe", errno);
  }
  ASSIGN_OR_RETURN(Sha256Digest digest, Sha256OfFile(exe.get()));
  return HexEncode(digest);
}

// waitpid(__WALL) without blocking past `deadline`: the status, or nullopt
// at the deadline. Polls: a tracer has no descriptor for its tracee's stops.
absl::StatusOr<std::optional<int>> WaitUntil(pid_t pid, ObserveDeadline deadline) {
  for (int round = 0;; ++round) {
    int status = 0;
    pid_t r = waitpid(pid, &status, __WALL | WNOHANG);
    if (r == pid) return std::optional<int>(status);
    if (r < 0 && errno != EINTR) return ErrnoStatus(absl::StrCat("waitpid ", pid), errno);
    if (std::chrono::steady_clock::now() >= deadline) return std::optional<int>();
    if (round < 50) {
      std::this_thread::yield();
    } else {
      timespec ts{0, 100'000};
      nanosleep(&ts, nullptr);
    }
  }
}

bool IsExited(int status) { return WIFEXITED(status) || WIFSIGNALED(status); }

std::string DescribeStatus(int status) {
  if (WIFEXITED(status)) return absl::StrCat("exited with status ", WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return absl::StrCat("was killed by signal ", WTERMSIG(status));
  if (WIFSTOPPED(status)) {
    return absl::StrCat("stopped by signal ", WSTOPSIG(status), " (event ", status >> 16, ")");
  }
  return absl::StrCat("reported status ", status);
}

// The process's filters, newest first. The kernel numbers them the other way
// (kernel/seccomp.c, get_nth_filter: index 0 is the first filter installed,
// the oldest), so they are read in its order and reversed.
absl::StatusOr<std::vector<std::string>> ReadFilters(pid_t pid) {
  std::vector<std::string> digests;
  for (unsigned long index = 0;; ++index) {
    long count = Ptrace(PTRACE_SECCOMP_GET_FILTER, pid, index, nullptr);
    if (count < 0) {
      // ENOENT: past the newest filter; EINVAL at index 0: not in filter mode.
      if (errno == ENOENT || (errno == EINVAL && index == 0)) {
        std::reverse(digests.begin(), digests.end());
        return digests;
      }
      if (errno == ESRCH) return Gone();
      return ErrnoStatus(absl::StrCat("PTRACE_SECCOMP_GET_FILTER ", index), errno);
    }
    std::vector<sock_filter> prog(static_cast<size_t>(count));
    long again = Ptrace(PTRACE_SECCOMP_GET_FILTER, pid, index, prog.data());
    if (again != count) {
      return ErrnoStatus(absl::StrCat("PTRACE_SECCOMP_GET_FILTER ", index, " (read)"), errno);
    }
    digests.push_back(HexEncode(Sha256(absl::string_view(
        reinterpret_cast<const char*>(prog.data()), prog.size() * sizeof(sock_filter)))));
  }
}

absl::Status ReadStatus(int dir, KernelObservation& o) {
  ASSIGN_OR_RETURN(std::string status, ReadAt(dir, "status"));
  auto number = [&](absl::string_view key, int* out) -> absl::Status {
    std::optional<std::string> v = Field(status, key);
    if (!v.has_value() || !absl::SimpleAtoi(*v, out)) {
      return absl::InternalError(absl::StrCat("/proc/PID/status has no ", key));
    }
    return absl::OkStatus();
  };
  auto caps = [&](absl::string_view key, uint64_t* out) -> absl::Status {
    std::optional<std::string> v = Field(status, key);
    if (!v.has_value() || !absl::SimpleHexAtoi(*v, out)) {
      return absl::InternalError(absl::StrCat("/proc/PID/status has no ", key));
    }
    return absl::OkStatus();
  };
  int nnp = 0;
  RETURN_IF_ERROR(number("Seccomp", &o.seccomp_mode));
  RETURN_IF_ERROR(number("NoNewPrivs", &nnp));
  o.no_new_privs = nnp != 0;
  RETURN_IF_ERROR(caps("CapInh", &o.cap_inheritable));
  RETURN_IF_ERROR(caps("CapPrm", &o.cap_permitted));
  RETURN_IF_ERROR(caps("CapEff", &o.cap_effective));
  RETURN_IF_ERROR(caps("CapBnd", &o.cap_bounding));
  RETURN_IF_ERROR(caps("CapAmb", &o.cap_ambient));
  return absl::OkStatus();
}

absl::Status ReadNamespaces(int dir, KernelObservation& o) {
  int error = 0;
  o.namespaces = NamespacesAt(dir, &error);
  if (error == ESRCH) return Gone();
  return absl::OkStatus();
}

// Names in a directory besides "." and "..", from an fd this call consumes.
absl::StatusOr<std::vector<std::string>> ListDir(UniqueFd fd, absl::string_view what) {
  DIR* d = fdopendir(fd.get());
  if (d == nullptr) return ErrnoStatus(absl::StrCat("fdopendir ", what), errno);
  fd.release();
  std::vector<std::string> names;
  errno = 0;
  while (dirent* e = readdir(d)) {
    std::string name = e->d_name;
    if (name != "." && name != "..") names.push_back(std::move(name));
  }
  int err = errno;
  closedir(d);
  if (err != 0) return ErrnoStatus(absl::StrCat("readdir ", what), err);
  return names;
}

absl::Status ReadRoot(int dir, KernelObservation& o) {
  ASSIGN_OR_RETURN(std::string mountinfo, ReadAt(dir, "mountinfo"));
  o.root = ObservedRoot{};
  for (absl::string_view line : absl::StrSplit(mountinfo, '\n', absl::SkipEmpty())) {
    ++o.root.mounts;
    // "36 35 98:0 /root / rw,noatime shared:1 - ext4 /dev/root rw"
    std::vector<absl::string_view> f = absl::StrSplit(line, ' ');
    if (f.size() < 10 || f[4] != "/") continue;
    size_t dash = 6;
    while (dash < f.size() && f[dash] != "-") ++dash;
    if (dash + 1 >= f.size()) continue;
    // The last mount at "/" is the one on top.
    o.root.fs_type = std::string(f[dash + 1]);
    o.root.read_only = false;
    for (absl::string_view opt : absl::StrSplit(f[5], ',')) {
      if (opt == "ro") o.root.read_only = true;
    }
  }
  UniqueFd root(openat(dir, "root", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!root) return ErrnoStatus("open /proc/PID/root", errno);
  ASSIGN_OR_RETURN(std::vector<std::string> entries, ListDir(std::move(root), "/proc/PID/root"));
  o.root.entries = static_cast<uint32_t>(entries.size());
  return absl::OkStatus();
}

absl::Status ReadFds(int dir, int pidfd, KernelObservation& o) {
  UniqueFd fd_dir(openat(dir, "fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd_dir) return ErrnoStatus("open /proc/PID/fd", errno);
  ASSIGN_OR_RETURN(std::vector<std::string> names, ListDir(std::move(fd_dir), "/proc/PID/fd"));
  std::vector<int> numbers;
  for (const std::string& name : names) {
    int n = 0;
    if (!absl::SimpleAtoi(name, &n) || n < 0) {
      return absl::InternalError(absl::StrCat("/proc/PID/fd lists \"", name, "\""));
    }
    numbers.push_back(n);
  }
  std::sort(numbers.begin(), numbers.end());
  // Mount ids are the kernel's, the same in every namespace; the attestor's
  // own mount table would only name mounts the observation does not record.
  const MountTable no_mounts;
  o.fds.clear();
  for (int n : numbers) {
    UniqueFd copy(static_cast<int>(syscall(SYS_pidfd_getfd, pidfd, n, 0)));
    if (!copy) {
      if (errno == ESRCH) return Gone();
      return ErrnoStatus(absl::StrCat("pidfd_getfd fd ", n), errno);
    }
    ASSIGN_OR_RETURN(FdFingerprint fp, FingerprintFd(copy.get(), no_mounts, /*hash_content=*/false,
                                                     /*describe_peers=*/false));
    fp.fd = n;
    o.fds.push_back(ObservedFdOf(fp));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<PeerProcess> IdentifyPeer(int socket_fd) {
  PeerProcess peer;
  ucred cred{};
  socklen_t len = sizeof(cred);
  if (getsockopt(socket_fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) {
    return ErrnoStatus("SO_PEERCRED", errno);
  }
  peer.uid = cred.uid;
  peer.gid = cred.gid;
  int pidfd = -1;
  len = sizeof(pidfd);
  if (getsockopt(socket_fd, SOL_SOCKET, SO_PEERPIDFD, &pidfd, &len) == 0) {
    peer.pidfd = UniqueFd(pidfd);
    ASSIGN_OR_RETURN(peer.pid, PidOfPidfd(peer.pidfd.get()));
    if (peer.pid != cred.pid) {
      return absl::FailedPreconditionError(absl::StrCat(
          "the socket's peer pidfd names pid ", peer.pid, " but its credentials pid ", cred.pid));
    }
    return peer;
  }
  if (errno != ENOPROTOOPT && errno != EINVAL) return ErrnoStatus("SO_PEERPIDFD", errno);
  // An older kernel: the pid SO_PEERCRED took at connect time, turned into a
  // pidfd. The process's start time is read before and after pidfd_open and
  // the pidfd checked alive after both: the same process throughout.
  if (cred.pid <= 0) return absl::FailedPreconditionError("the socket's peer has no pid");
  ASSIGN_OR_RETURN(uint64_t before, StartTimeOf(cred.pid));
  peer.pidfd = UniqueFd(PidfdOpen(cred.pid));
  if (!peer.pidfd) {
    if (errno == ESRCH) return Gone();
    return ErrnoStatus("pidfd_open", errno);
  }
  ASSIGN_OR_RETURN(uint64_t after, StartTimeOf(cred.pid));
  ucred again{};
  len = sizeof(again);
  if (getsockopt(socket_fd, SOL_SOCKET, SO_PEERCRED, &again, &len) != 0) {
    return ErrnoStatus("SO_PEERCRED", errno);
  }
  if (before != after || ProcessGone(peer.pidfd.get()) || again.pid != cred.pid ||
      again.uid != cred.uid || again.gid != cred.gid) {
    return absl::FailedPreconditionError(
        absl::StrCat("the socket's peer (pid ", cred.pid, ") changed while it was identified"));
  }
  peer.pid = cred.pid;
  return peer;
}

absl::StatusOr<std::string> ExecutableDigestOf(int pidfd) {
  ASSIGN_OR_RETURN(pid_t pid, PidOfPidfd(pidfd));
  ASSIGN_OR_RETURN(UniqueFd dir, OpenProcDir(pidfd, pid));
  ASSIGN_OR_RETURN(std::string digest, DigestAt(dir.get()));
  if (ProcessGone(pidfd)) return Gone();
  return digest;
}

bool ProcessGone(int pidfd) {
  pollfd p{pidfd, POLLIN, 0};
  int r;
  do {
    r = poll(&p, 1, 0);
  } while (r < 0 && errno == EINTR);
  // An error polling our own pidfd: treat the process as gone (fail closed).
  return r != 0;
}

absl::StatusOr<TracedProcess> TracedProcess::SeizeChild(pid_t pid, int parent_pidfd) {
  if (pid <= 0) return absl::InvalidArgumentError(absl::StrCat("pid ", pid, " is not a process"));
  ASSIGN_OR_RETURN(pid_t parent, PidOfPidfd(parent_pidfd));
  UniqueFd pidfd(PidfdOpen(pid));
  if (!pidfd) {
    if (errno == ESRCH) {
      return absl::PermissionDeniedError(absl::StrCat("pid ", pid, " is not a running process"));
    }
    return ErrnoStatus(absl::StrCat("pidfd_open ", pid), errno);
  }
  ASSIGN_OR_RETURN(UniqueFd dir, OpenProcDir(pidfd.get(), pid));
  ASSIGN_OR_RETURN(std::string status, ReadAt(dir.get(), "status"));
  // Confirmed after the read: the status read was this process's.
  if (ProcessGone(pidfd.get())) return Gone();
  std::optional<std::string> ppid = Field(status, "PPid");
  std::optional<std::string> tracer = Field(status, "TracerPid");
  if (!ppid.has_value() || *ppid != std::to_string(parent) || ProcessGone(parent_pidfd)) {
    return absl::PermissionDeniedError(absl::StrCat(
        "pid ", pid, " is not a child of the requesting process (pid ", parent, ")"));
  }
  if (!tracer.has_value() || *tracer != "0") {
    return absl::PermissionDeniedError(absl::StrCat("pid ", pid, " is already traced"));
  }
  TracedProcess traced(std::move(pidfd), pid);
  if (Ptrace(PTRACE_SEIZE, pid, 0,
             reinterpret_cast<void*>(PTRACE_O_TRACEEXEC | PTRACE_O_EXITKILL)) != 0) {
    return ErrnoStatus(absl::StrCat("PTRACE_SEIZE ", pid), errno);
  }
  traced.attached_ = true;
  // Alive after the seize: the pid seized is still the process checked.
  if (ProcessGone(traced.pidfd())) {
    traced.Detach().IgnoreError();
    return Gone();
  }
  return traced;
}

absl::Status TracedProcess::WaitForExec(ObserveDeadline deadline) {
  if (!attached_) return absl::FailedPreconditionError("the process is not held");
  for (;;) {
    ASSIGN_OR_RETURN(std::optional<int> status, WaitUntil(pid_, deadline));
    if (!status.has_value()) {
      return absl::DeadlineExceededError(
          absl::StrCat("pid ", pid_, " did not reach its exec in time"));
    }
    if (IsExited(*status)) {
      attached_ = false;
      return absl::FailedPreconditionError(
          absl::StrCat("pid ", pid_, " ", DescribeStatus(*status), " before its exec"));
    }
    if (WIFSTOPPED(*status) && (*status >> 8) == (SIGTRAP | (PTRACE_EVENT_EXEC << 8))) {
      return absl::OkStatus();
    }
    const std::string what = DescribeStatus(*status);
    Kill();
    return absl::FailedPreconditionError(
        absl::StrCat("pid ", pid_, " ", what, " before its exec; it was killed"));
  }
}

absl::StatusOr<TracedProcess> TracedProcess::SeizeAndStop(int pidfd, ObserveDeadline deadline) {
  ASSIGN_OR_RETURN(pid_t pid, PidOfPidfd(pidfd));
  UniqueFd own(fcntl(pidfd, F_DUPFD_CLOEXEC, 0));
  if (!own) return ErrnoStatus("dup pidfd", errno);
  if (ProcessGone(own.get())) return Gone();
  TracedProcess traced(std::move(own), pid);
  if (Ptrace(PTRACE_SEIZE, pid, 0, nullptr) != 0) {
    if (errno == ESRCH || ProcessGone(traced.pidfd())) return Gone();
    return ErrnoStatus(absl::StrCat("PTRACE_SEIZE ", pid), errno);
  }
  traced.attached_ = true;
  // The pid may have been reused between PidOfPidfd and the seize: only a
  // pidfd still alive proves the seized process is the launch's.
  if (ProcessGone(traced.pidfd())) {
    traced.Detach().IgnoreError();
    return Gone();
  }
  if (Ptrace(PTRACE_INTERRUPT, pid, 0, nullptr) != 0) {
    if (errno == ESRCH) {
      traced.attached_ = false;
      return Gone();
    }
    return ErrnoStatus(absl::StrCat("PTRACE_INTERRUPT ", pid), errno);
  }
  ASSIGN_OR_RETURN(std::optional<int> status, WaitUntil(pid, deadline));
  if (!status.has_value()) {
    return absl::DeadlineExceededError(absl::StrCat("pid ", pid, " did not stop in time"));
  }
  if (IsExited(*status)) {
    traced.attached_ = false;
    return Gone();
  }
  if (!WIFSTOPPED(*status)) {
    return absl::InternalError(absl::StrCat("pid ", pid, " ", DescribeStatus(*status)));
  }
  // A signal-delivery stop came first: observe in it and hand the signal
  // back at the detach.
  if ((*status >> 16) == 0) traced.pending_signal_ = WSTOPSIG(*status);
  return traced;
}

absl::StatusOr<KernelObservation> TracedProcess::Observe() const {
  if (!attached_) return absl::FailedPreconditionError("the process is not held");
  ASSIGN_OR_RETURN(UniqueFd dir, OpenProcDir(pidfd_.get(), pid_));
  KernelObservation o;
  ASSIGN_OR_RETURN(o.filter_sha256, ReadFilters(pid_));
  RETURN_IF_ERROR(ReadStatus(dir.get(), o));
  ASSIGN_OR_RETURN(o.exe_sha256, DigestAt(dir.get()));
  RETURN_IF_ERROR(ReadNamespaces(dir.get(), o));
  RETURN_IF_ERROR(ReadRoot(dir.get(), o));
  RETURN_IF_ERROR(ReadFds(dir.get(), pidfd_.get(), o));
  if (ProcessGone(pidfd_.get())) return Gone();
  return o;
}

absl::Status TracedProcess::Detach() {
  if (!attached_) return absl::OkStatus();
  attached_ = false;
  if (Ptrace(PTRACE_DETACH, pid_, 0, reinterpret_cast<void*>(static_cast<long>(pending_signal_))) !=
      0) {
    if (errno == ESRCH && ProcessGone(pidfd_.get())) return Gone();
    return ErrnoStatus(absl::StrCat("PTRACE_DETACH ", pid_), errno);
  }
  return absl::OkStatus();
}

void TracedProcess::Kill() {
  if (pidfd_) syscall(SYS_pidfd_send_signal, pidfd_.get(), SIGKILL, nullptr, 0);
  if (!attached_) return;
  attached_ = false;
  // The tracer sees the exit first; consuming it lets the real parent reap.
  for (;;) {
    int status = 0;
    pid_t r = waitpid(pid_, &status, __WALL);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0 || IsExited(status)) return;
  }
}

absl::StatusOr<UniqueFd> TracedProcess::DupPidfd() const {
  UniqueFd copy(fcntl(pidfd_.get(), F_DUPFD_CLOEXEC, 0));
  if (!copy) return ErrnoStatus("dup pidfd", errno);
  return copy;
}

TracedProcess::TracedProcess(TracedProcess&& other) noexcept
    : pidfd_(std::move(other.pidfd_)),
      pid_(other.pid_),
      attached_(std::exchange(other.attached_, false)),
      pending_signal_(std::exchange(other.pending_signal_, 0)) {}

TracedProcess& TracedProcess::operator=(TracedProcess&& other) noexcept {
  if (this != &other) {
    Detach().IgnoreError();
    pidfd_ = std::move(other.pidfd_);
    pid_ = other.pid_;
    attached_ = std::exchange(other.attached_, false);
    pending_signal_ = std::exchange(other.pending_signal_, 0);
  }
  return *this;
}

TracedProcess::~TracedProcess() { Detach().IgnoreError(); }

}  // namespace fdattest
