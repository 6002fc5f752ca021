#include "bench/confined_child.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/fingerprint.h"
#include "common/json.h"
#include "common/sha256.h"
#include "launcher/capabilities.h"
#include "launcher/executable.h"
#include "launcher/filter.h"
#include "launcher/final_exec.h"

extern char** environ;

namespace fdattest::bench {
namespace {

// Where the child parks descriptors before moving them into place.
constexpr int kHigh = 900;
constexpr int kExecDoneFd = kExeFd + 1;

std::string SelfDigest() {
  UniqueFd self(open("/proc/self/exe", O_RDONLY | O_CLOEXEC));
  if (!self) return std::string(64, '0');
  absl::StatusOr<Sha256Digest> d = Sha256OfFile(self.get());
  return d.ok() ? HexEncode(*d) : std::string(64, '0');
}

// The process facts fdlaunch's manifest records (launcher/launch.cc, step 7).
void DescribeThisProcess(Manifest& m) {
  m.uid = getuid();
  m.gid = getgid();
  m.euid = geteuid();
  m.egid = getegid();
  UniqueFd self(open("/proc/self", O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (self) m.namespaces = NamespacesAt(self.get());
  for (auto [name, resource] : {std::pair{"core", RLIMIT_CORE}, std::pair{"nofile", RLIMIT_NOFILE}}) {
    rlimit rl{};
    if (getrlimit(resource, &rl) == 0) m.rlimits[name] = {rl.rlim_cur, rl.rlim_max};
  }
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    absl::string_view entry(*e);
    m.env_names.emplace_back(entry.substr(0, entry.find('=')));
  }
  std::sort(m.env_names.begin(), m.env_names.end());
}

// Ends the child before its exec, saying why on the exec pipe (one byte: the
// exit code), which the parent reads instead of end of file.
[[noreturn]] void Fail(int exec_done, unsigned char code) {
  ssize_t ignored = write(exec_done, &code, 1);
  (void)ignored;
  _exit(code);
}

[[noreturn]] void RunChild(pid_t parent, int exe, int go, int exec_done, const std::vector<int>& fds,
                           const std::string& bpf, const std::string& name) {
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() != parent) Fail(exec_done, 119);
  char c;
  if (read(go, &c, 1) != 1) Fail(exec_done, 120);
  // Out of the way of every target number first, then into place.
  if (dup3(exe, kHigh, O_CLOEXEC) < 0 || dup3(exec_done, kHigh + 1, O_CLOEXEC) < 0) {
    Fail(exec_done, 121);
  }
  for (int i = 0; i < kDeclaredFds; ++i) {
    if (dup3(fds[static_cast<size_t>(i)], kHigh + 2 + i, O_CLOEXEC) < 0) Fail(exec_done, 121);
  }
  for (int i = 0; i < kDeclaredFds; ++i) {
    if (dup2(kHigh + 2 + i, i) < 0) Fail(kHigh + 1, 122);  // dup2: not close-on-exec
  }
  if (dup3(kHigh, kExeFd, O_CLOEXEC) < 0 || dup3(kHigh + 1, kExecDoneFd, O_CLOEXEC) < 0) {
    Fail(kHigh + 1, 122);
  }
  // fdlaunch empties these at the start of every launch (launch step 1).
  if (!DropCapabilitiesForExec().ok()) Fail(kExecDoneFd, 123);
  ExecPlan plan{.exe_fd = kExeFd, .bpf = bpf, .install_flags = 0, .argv = {name}};
  for (int i = 0; i < kDeclaredFds; ++i) plan.declared.insert(i);
  plan.private_fds = {kExeFd, kExecDoneFd};
  // Returns only on a failure before the filter is installed.
  absl::Status failed = ExecConfined(plan);
  (void)failed;
  Fail(kExecDoneFd, 124);
}

}  // namespace

absl::StatusOr<ConfinedWorkload> ConfinedWorkload::Create(const std::string& program,
                                                          bool stdin_pipe) {
  ConfinedWorkload w;
  // A sealed memfd copy, hashed: what fdlaunch executes for an attested launch.
  ASSIGN_OR_RETURN(Executable exe, OpenExecutable(program, 10, /*hash=*/true));
  w.exe_ = std::move(exe.fd);

  if (stdin_pipe) {
    int p[2];
    if (pipe2(p, O_CLOEXEC) != 0) return ErrnoStatus("pipe", errno);
    w.fds_.emplace_back(p[0]);
    w.stdin_writer_ = UniqueFd(p[1]);
  } else {
    w.fds_.emplace_back(open("/dev/null", O_RDONLY | O_CLOEXEC));
  }
  w.fds_.emplace_back(open("/dev/null", O_WRONLY | O_CLOEXEC));
  w.fds_.emplace_back(open("/dev/null", O_WRONLY | O_CLOEXEC));
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
    return ErrnoStatus("socketpair", errno);
  }
  w.fds_.emplace_back(sv[0]);
  w.socket_peer_ = UniqueFd(sv[1]);
  for (const UniqueFd& fd : w.fds_) {
    if (!fd) return ErrnoStatus("open /dev/null", errno);
  }

  const Access access[kDeclaredFds] = {Access::kRead, Access::kWrite, Access::kWrite,
                                       Access::kReadWrite};
  const char* access_name[kDeclaredFds] = {"r", "w", "w", "rw"};
  const char* role[kDeclaredFds] = {"input", "output", "log", "peer"};
  FilterSpec spec{.on_violation = OnViolation::kErrno, .exec_fd = kExeFd};
  for (int i = 0; i < kDeclaredFds; ++i) spec.fds.push_back({i, access[i]});
  ASSIGN_OR_RETURN(w.bpf_, CompileFilter(spec));

  Manifest& m = w.manifest_;
  ASSIGN_OR_RETURN(MountTable mounts, MountTable::Load());
  for (int i = 0; i < kDeclaredFds; ++i) {
    ASSIGN_OR_RETURN(FdFingerprint fp, FingerprintFd(w.fds_[static_cast<size_t>(i)].get(), mounts,
                                                     /*hash_content=*/false));
    fp.fd = i;
    fp.role = role[i];
    fp.access = access_name[i];
    fp.source = "inherit";
    m.fds.push_back(std::move(fp));
  }
  m.time = "2026-01-01T00:00:00Z";
  m.profile_name = "bench";
  m.profile_sha256 = HexEncode(Sha256("bench profile"));
  m.exe_path = exe.path;
  m.exe_sha256 = exe.sha256;
  m.argv = {program.substr(program.rfind('/') + 1)};
  DescribeThisProcess(m);
  m.no_new_privs = true;
  m.no_capabilities = true;
  m.attested = true;
  m.launcher_version = "bench";
  m.launcher_sha256 = SelfDigest();
  m.filter = {.bpf = w.bpf_, .on_violation = "errno", .install_flags = 0, .exec_fd = kExeFd};
  // The bytes must parse back, as the attestor parses them.
  ASSIGN_OR_RETURN(std::string bytes, w.ManifestFor(std::string(32, 'a')));
  RETURN_IF_ERROR(Manifest::Parse(bytes).status());
  return w;
}

absl::StatusOr<std::string> ConfinedWorkload::ManifestFor(absl::string_view launch_id) const {
  Manifest m = manifest_;
  m.launch_id = std::string(launch_id);
  return CanonicalJson(m.ToJson());
}

absl::StatusOr<ConfinedChild> ConfinedChild::Fork(const ConfinedWorkload& w) {
  int go[2], done[2];
  if (pipe2(go, O_CLOEXEC) != 0) return ErrnoStatus("pipe", errno);
  if (pipe2(done, O_CLOEXEC) != 0) {
    close(go[0]);
    close(go[1]);
    return ErrnoStatus("pipe", errno);
  }
  std::vector<int> fds;
  for (const UniqueFd& fd : w.fds_) fds.push_back(fd.get());
  const pid_t parent = getpid();
  pid_t pid = fork();
  if (pid < 0) return ErrnoStatus("fork", errno);
  if (pid == 0) RunChild(parent, w.exe_.get(), go[0], done[1], fds, w.bpf_, w.manifest_.argv[0]);
  close(go[0]);
  close(done[1]);
  ConfinedChild child;
  child.pid_ = pid;
  child.go_ = UniqueFd(go[1]);
  child.exec_done_ = UniqueFd(done[0]);
  return child;
}

ConfinedChild::ConfinedChild(ConfinedChild&& other) noexcept
    : pid_(std::exchange(other.pid_, 0)),
      go_(std::move(other.go_)),
      exec_done_(std::move(other.exec_done_)) {}

ConfinedChild::~ConfinedChild() {
  if (pid_ > 0) {
    kill(pid_, SIGKILL);
    Reap();
  }
}

absl::Status ConfinedChild::Go() {
  char c = 'g';
  if (write(go_.get(), &c, 1) != 1) return ErrnoStatus("write to the child's go pipe", errno);
  go_.reset();
  return absl::OkStatus();
}

absl::Status ConfinedChild::WaitExecuted() {
  unsigned char code = 0;
  ssize_t n;
  do {
    n = read(exec_done_.get(), &code, 1);
  } while (n < 0 && errno == EINTR);
  exec_done_.reset();
  // End of file: the exec closed the pipe (or the child was killed, which its
  // status shows later). No waitpid here: the parent may also be its tracer.
  if (n == 0) return absl::OkStatus();
  return absl::InternalError(
      n == 1 ? absl::StrCat("the child failed before its exec (code ", code,
                            ": 119 parent, 120 go, 121-122 descriptors, 123 capabilities, "
                            "124 root, no_new_privs or filter)")
             : absl::StrCat("reading the child's exec pipe: ", strerror(errno)));
}

int ConfinedChild::Reap() {
  int status = 0;
  while (waitpid(pid_, &status, __WALL) < 0 && errno == EINTR) {
  }
  pid_ = 0;
  return status;
}

absl::Status ConfinedChild::ReapOk() {
  const int status = Reap();
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return absl::OkStatus();
  return absl::InternalError(absl::StrCat("the workload ended with ",
                                          WIFEXITED(status) ? "exit " : "signal ",
                                          WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status)));
}

}  // namespace fdattest::bench
