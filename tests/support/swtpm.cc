#include "tests/support/swtpm.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/file_io.h"
#include "common/unique_fd.h"

extern char** environ;

namespace fdattest::testing {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// The project's scripts (certs/, tools/swtpm/) are run from the source tree.
constexpr char kSourceDir[] = FDATTEST_SOURCE_DIR;

constexpr auto kProvisionTimeout = std::chrono::seconds(60);
constexpr auto kReadyTimeout = std::chrono::seconds(10);
constexpr auto kTermTimeout = std::chrono::seconds(5);
constexpr auto kKillTimeout = std::chrono::seconds(5);
// sun_path holds 107 characters and "<dir>/sock.ctrl" must fit.
constexpr size_t kMaxDirLength = 97;

// A short base for temporary directories: $TMPDIR when it leaves room for the
// socket names, /tmp otherwise.
std::string TempBase() {
  const char* tmpdir = std::getenv("TMPDIR");
  if (tmpdir != nullptr && tmpdir[0] == '/' &&
      std::strlen(tmpdir) + sizeof("/fdattest-swtpm-tmpl.XXXXXX") <= kMaxDirLength) {
    return tmpdir;
  }
  return "/tmp";
}

absl::StatusOr<std::string> MakeTempDir(const std::string& prefix) {
  std::string path = absl::StrCat(TempBase(), "/", prefix, ".XXXXXX");
  if (mkdtemp(path.data()) == nullptr) return ErrnoStatus(absl::StrCat("mkdtemp ", path), errno);
  return path;
}

void RemoveTree(const std::string& path) {
  std::error_code ignored;
  std::filesystem::remove_all(path, ignored);
}

// The end of a log file, quoted in error messages.
std::string LogTail(const std::string& path) {
  absl::StatusOr<std::string> log = ReadFileLimited(path, 1 << 20);
  if (!log.ok() || log->empty()) return "";
  constexpr size_t kTail = 1500;
  std::string tail = log->size() > kTail ? log->substr(log->size() - kTail) : *log;
  return absl::StrCat(" [", path, ": ", tail, "]");
}

// Waits for `pid` (a child) to exit until `deadline`. Returns true when it is
// gone (also when someone else reaped it), false on timeout. `status` gets the
// wait status, or -1 when unknown.
bool WaitChild(pid_t pid, Clock::time_point deadline, int* status) {
  *status = -1;
  auto sleep = std::chrono::microseconds(200);
  for (;;) {
    int st = 0;
    pid_t r = waitpid(pid, &st, WNOHANG);
    if (r == pid) {
      *status = st;
      return true;
    }
    if (r < 0 && errno != EINTR) return true;  // ECHILD: reaped elsewhere
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(sleep);
    sleep = std::min<std::chrono::microseconds>(sleep * 2, milliseconds(10));
  }
}

std::string DescribeWaitStatus(int status) {
  if (status == -1) return "exited (status unknown)";
  if (WIFEXITED(status)) return absl::StrCat("exited with code ", WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return absl::StrCat("killed by signal ", WTERMSIG(status));
  return absl::StrCat("wait status ", status);
}

// Finds an executable in $PATH before forking (execvp is not safe to call in
// the child of a multithreaded process).
absl::StatusOr<std::string> FindInPath(const std::string& name) {
  const char* path_env = std::getenv("PATH");
  std::string path = path_env != nullptr ? path_env : "/usr/bin:/bin";
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find(':', start);
    if (end == std::string::npos) end = path.size();
    std::string dir = path.substr(start, end - start);
    if (!dir.empty()) {
      std::string candidate = absl::StrCat(dir, "/", name);
      if (access(candidate.c_str(), X_OK) == 0) return candidate;
    }
    start = end + 1;
  }
  return absl::FailedPreconditionError(
      absl::StrCat(name, " not found in PATH (apt-get install swtpm swtpm-tools)"));
}

// Forks and execs argv[0] (an absolute path) with stdin from /dev/null and
// stdout+stderr appended to `log_path`. The child dies with the calling thread
// (PR_SET_PDEATHSIG) and, with `own_group`, leads a new process group so a
// timeout can kill everything it started.
absl::StatusOr<pid_t> Spawn(const std::vector<std::string>& argv, const std::string& log_path,
                            bool own_group) {
  std::vector<char*> cargv;
  for (const std::string& a : argv) cargv.push_back(const_cast<char*>(a.c_str()));
  cargv.push_back(nullptr);
  UniqueFd devnull(open("/dev/null", O_RDONLY | O_CLOEXEC));
  if (!devnull) return ErrnoStatus("open /dev/null", errno);
  UniqueFd log(open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600));
  if (!log) return ErrnoStatus(absl::StrCat("open ", log_path), errno);
  const pid_t parent = getpid();

  pid_t pid = fork();
  if (pid < 0) return ErrnoStatus("fork", errno);
  if (pid == 0) {
    // Only async-signal-safe calls from here on.
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != parent) _exit(126);
    if (own_group) setpgid(0, 0);
    if (dup2(devnull.get(), 0) < 0 || dup2(log.get(), 1) < 0 || dup2(log.get(), 2) < 0) _exit(126);
    execve(cargv[0], cargv.data(), environ);
    _exit(127);
  }
  return pid;
}

// Runs a script to completion, bounded by `timeout`; its output goes to
// `log_path` and is quoted in the error when it fails.
absl::Status RunScript(const std::vector<std::string>& argv, const std::string& log_path,
                       Clock::duration timeout) {
  if (access(argv[0].c_str(), X_OK) != 0) return ErrnoStatus(absl::StrCat("exec ", argv[0]), errno);
  ASSIGN_OR_RETURN(pid_t pid, Spawn(argv, log_path, /*own_group=*/true));
  int status;
  if (!WaitChild(pid, Clock::now() + timeout, &status)) {
    kill(-pid, SIGKILL);
    WaitChild(pid, Clock::now() + kKillTimeout, &status);
    return absl::DeadlineExceededError(absl::StrCat(argv[0], " timed out", LogTail(log_path)));
  }
  if (status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 0) return absl::OkStatus();
  return absl::InternalError(
      absl::StrCat(argv[0], " ", DescribeWaitStatus(status), LogTail(log_path)));
}

// The per-process provisioned template: a development PKI and a TPM state made
// by the project's scripts, removed at exit by the process that made it (not
// by forked children that happen to call exit()).
struct Template {
  std::string root;
  std::string pki_dir;
  std::string state_dir;
  pid_t owner = -1;
  ~Template() {
    if (!root.empty() && getpid() == owner) RemoveTree(root);
  }
};

absl::StatusOr<const Template*> MakeTemplate(Template* t) {
  ASSIGN_OR_RETURN(t->root, MakeTempDir("fdattest-swtpm-tmpl"));
  t->owner = getpid();
  t->pki_dir = t->root + "/pki";
  t->state_dir = t->root + "/state";
  const std::string src = kSourceDir;
  RETURN_IF_ERROR(RunScript({src + "/tools/swtpm/provision.sh", t->state_dir, t->pki_dir},
                            t->root + "/provision.log", kProvisionTimeout));
  return t;
}

// Provisions once per process; a failure is remembered, so later tests fail
// at once with the same message instead of waiting again.
absl::StatusOr<const Template*> GetTemplate() {
  static Template the_template;
  static absl::StatusOr<const Template*> result = MakeTemplate(&the_template);
  return result;
}

absl::Status CopyFile(const std::string& from, const std::string& to) {
  ASSIGN_OR_RETURN(std::string data, ReadFileLimited(from, 1 << 20));
  UniqueFd fd(open(to.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
  if (!fd) return ErrnoStatus(absl::StrCat("create ", to), errno);
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = write(fd.get(), data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return ErrnoStatus(absl::StrCat("write ", to), errno);
    done += static_cast<size_t>(n);
  }
  return absl::OkStatus();
}

// One TPM2_GetRandom(8) on the data socket; true when it succeeded. The
// channel carries raw TPM commands.
absl::StatusOr<bool> ProbeOnce(const std::string& sock_path, Clock::time_point deadline) {
  UniqueFd fd(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) return ErrnoStatus("socket", errno);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, sock_path.c_str(), sock_path.size() + 1);
  if (connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    if (errno == ENOENT || errno == ECONNREFUSED || errno == EINTR) return false;
    return ErrnoStatus(absl::StrCat("connect ", sock_path), errno);
  }
  static constexpr unsigned char kGetRandom8[] = {0x80, 0x01, 0x00, 0x00, 0x00, 0x0c,
                                                  0x00, 0x00, 0x01, 0x7b, 0x00, 0x08};
  if (send(fd.get(), kGetRandom8, sizeof(kGetRandom8), MSG_NOSIGNAL) !=
      static_cast<ssize_t>(sizeof(kGetRandom8))) {
    return false;
  }
  unsigned char resp[64];
  size_t got = 0;
  while (got < 10) {
    auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) return false;
    pollfd p{fd.get(), POLLIN, 0};
    int r = poll(&p, 1, static_cast<int>(left));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return false;
    ssize_t n = recv(fd.get(), resp + got, sizeof(resp) - got, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    got += static_cast<size_t>(n);
  }
  const uint32_t rc = (uint32_t{resp[6]} << 24) | (uint32_t{resp[7]} << 16) |
                      (uint32_t{resp[8]} << 8) | uint32_t{resp[9]};
  if (rc != 0)
    return absl::InternalError(absl::StrCat("swtpm answered GetRandom with 0x", absl::Hex(rc)));
  return true;
}

}  // namespace

Swtpm::Swtpm(std::string dir)
    : dir_(std::move(dir)), tcti_("swtpm:path=" + dir_ + "/sock"), owner_(getpid()) {}

absl::StatusOr<std::unique_ptr<Swtpm>> Swtpm::Start(bool provisioned) {
  const Template* t = nullptr;
  if (provisioned) {
    ASSIGN_OR_RETURN(t, GetTemplate());
  }
  ASSIGN_OR_RETURN(std::string dir, MakeTempDir("fdattest-swtpm"));
  std::unique_ptr<Swtpm> tpm(new Swtpm(std::move(dir)));  // removes dir on failure
  if (tpm->dir_.size() > kMaxDirLength) {
    return absl::FailedPreconditionError(
        absl::StrCat(tpm->dir_, " is too long for a unix socket path"));
  }
  if (t != nullptr) {
    RETURN_IF_ERROR(CopyFile(t->state_dir + "/tpm2-00.permall", tpm->dir_ + "/tpm2-00.permall"));
  }
  RETURN_IF_ERROR(tpm->Launch());
  return tpm;
}

absl::StatusOr<std::string> Swtpm::CaCertPemPath() {
  ASSIGN_OR_RETURN(const Template* t, GetTemplate());
  return t->pki_dir + "/tpm-vendor-ca.pem";
}

absl::Status Swtpm::Launch() {
  if (pid_ > 0) return absl::FailedPreconditionError("swtpm already runs on " + dir_);
  ASSIGN_OR_RETURN(std::string swtpm, FindInPath("swtpm"));
  // A swtpm killed with SIGKILL leaves its sockets behind.
  unlink((dir_ + "/sock").c_str());
  unlink((dir_ + "/sock.ctrl").c_str());
  // In the foreground (no --daemon), so this process can waitpid() it; --log
  // keeps the per-disconnect messages off stderr.
  std::vector<std::string> argv = {swtpm,
                                   "socket",
                                   "--tpm2",
                                   "--server",
                                   absl::StrCat("type=unixio,path=", dir_, "/sock"),
                                   "--ctrl",
                                   absl::StrCat("type=unixio,path=", dir_, "/sock.ctrl"),
                                   "--tpmstate",
                                   absl::StrCat("dir=", dir_),
                                   "--flags",
                                   "not-need-init,startup-clear",
                                   "--log",
                                   absl::StrCat("file=", dir_, "/swtpm.log,level=1")};
  ASSIGN_OR_RETURN(pid_t pid, Spawn(argv, dir_ + "/swtpm.out", /*own_group=*/false));
  absl::Status ready = WaitReady(pid);
  if (!ready.ok()) {
    kill(pid, SIGKILL);
    int status;
    WaitChild(pid, Clock::now() + kKillTimeout, &status);
    return ready;
  }
  pid_ = pid;
  return absl::OkStatus();
}

absl::Status Swtpm::WaitReady(pid_t pid) {
  const Clock::time_point deadline = Clock::now() + kReadyTimeout;
  const std::string sock = dir_ + "/sock";
  for (;;) {
    int status = 0;
    pid_t r = waitpid(pid, &status, WNOHANG);
    if (r == pid || (r < 0 && errno == ECHILD)) {
      return absl::InternalError(absl::StrCat(
          "swtpm on ", dir_, " ", DescribeWaitStatus(r == pid ? status : -1),
          " before it was ready", LogTail(dir_ + "/swtpm.out"), LogTail(dir_ + "/swtpm.log")));
    }
    ASSIGN_OR_RETURN(bool ready, ProbeOnce(sock, deadline));
    if (ready) return absl::OkStatus();
    if (Clock::now() >= deadline) {
      return absl::DeadlineExceededError(absl::StrCat("swtpm on ", dir_, " not ready within ",
                                                      kReadyTimeout.count(), " s",
                                                      LogTail(dir_ + "/swtpm.log")));
    }
    std::this_thread::sleep_for(std::chrono::microseconds(500));
  }
}

absl::Status Swtpm::Stop() {
  if (pid_ <= 0) return absl::OkStatus();
  const pid_t pid = pid_;
  pid_ = -1;
  int status;
  kill(pid, SIGTERM);
  if (WaitChild(pid, Clock::now() + kTermTimeout, &status)) return absl::OkStatus();
  kill(pid, SIGKILL);
  if (WaitChild(pid, Clock::now() + kKillTimeout, &status)) {
    return absl::DeadlineExceededError(absl::StrCat("swtpm on ", dir_, " ignored SIGTERM for ",
                                                    kTermTimeout.count(), " s and was killed"));
  }
  return absl::InternalError(absl::StrCat("swtpm (pid ", pid, ") on ", dir_, " did not exit"));
}

absl::Status Swtpm::Restart() {
  RETURN_IF_ERROR(Stop());
  return Launch();
}

Swtpm::~Swtpm() {
  if (getpid() != owner_) return;  // a forked child: the parent cleans up
  Stop().IgnoreError();
  RemoveTree(dir_);
}

}  // namespace fdattest::testing
