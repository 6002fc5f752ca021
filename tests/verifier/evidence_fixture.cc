#include "tests/verifier/evidence_fixture.h"

#include <fcntl.h>
#include <linux/close_range.h>
#include <openssl/rand.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <thread>

#include "absl/strings/str_cat.h"
#include "common/file_io.h"
#include "common/sha256.h"
#include "common/unique_fd.h"
#include "tests/support/drain_pipes.h"

extern char** environ;

namespace fdattest::e2e {
namespace {

using Clock = std::chrono::steady_clock;

// The argv/envp arrays a forked child execs (built before fork: the child
// only calls async-signal-safe functions).
struct ExecArgs {
  std::vector<std::string> storage;
  std::vector<char*> argv;
  std::vector<std::string> env_storage;
  std::vector<char*> envp;

  ExecArgs(const std::vector<std::string>& args, const std::vector<std::string>& extra_env)
      : storage(args) {
    for (std::string& a : storage) argv.push_back(a.data());
    argv.push_back(nullptr);
    for (char** e = environ; *e != nullptr; ++e) env_storage.emplace_back(*e);
    env_storage.insert(env_storage.end(), extra_env.begin(), extra_env.end());
    for (std::string& e : env_storage) envp.push_back(e.data());
    envp.push_back(nullptr);
  }
};

// In a forked child: stdin from /dev/null, stdout/stderr as given, every
// other descriptor closed at exec, then exec (PATH lookup without '/').
[[noreturn]] void ExecChild(ExecArgs& args, int out_fd, int err_fd, bool die_with_parent) {
  if (die_with_parent) prctl(PR_SET_PDEATHSIG, SIGKILL);
  int null_fd = open("/dev/null", O_RDONLY);
  if (null_fd < 0 || dup2(null_fd, 0) != 0 || dup2(out_fd, 1) != 1 || dup2(err_fd, 2) != 2) {
    _exit(127);
  }
  syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC);
  if (strchr(args.argv[0], '/') != nullptr) {
    execve(args.argv[0], args.argv.data(), args.envp.data());
  } else {
    execvpe(args.argv[0], args.argv.data(), args.envp.data());
  }
  _exit(127);
}

bool WaitChild(pid_t pid, Clock::time_point deadline, int* status) {
  for (;;) {
    pid_t r = waitpid(pid, status, WNOHANG);
    if (r == pid) return true;
    if (r < 0 && errno != EINTR) return false;
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

}  // namespace

ProcessResult RunProcess(const std::vector<std::string>& argv, std::chrono::milliseconds timeout) {
  ProcessResult result;
  int out[2], err[2];
  if (pipe2(out, O_CLOEXEC) != 0) return result;
  if (pipe2(err, O_CLOEXEC) != 0) {
    close(out[0]);
    close(out[1]);
    return result;
  }
  ExecArgs args(argv, {});
  const pid_t pid = fork();
  if (pid == 0) ExecChild(args, out[1], err[1], /*die_with_parent=*/true);
  close(out[1]);
  close(err[1]);
  UniqueFd out_r(out[0]), err_r(err[0]);
  if (pid < 0) return result;

  const auto deadline = Clock::now() + timeout;
  fdattest::testing::DrainPipes(out_r.get(), err_r.get(), &result.out, &result.err, deadline);
  int status = 0;
  if (!WaitChild(pid, std::max(deadline, Clock::now() + std::chrono::milliseconds(100)), &status)) {
    kill(pid, SIGKILL);
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    result.timed_out = true;
    return result;
  }
  if (WIFEXITED(status)) result.exit_code = WEXITSTATUS(status);
  return result;
}

// ---------------------------------------------------------------------------

ScratchDir::ScratchDir() {
  std::string tmpl = "/tmp/fdv.XXXXXX";
  if (mkdtemp(tmpl.data()) != nullptr) path_ = tmpl;
}

ScratchDir::~ScratchDir() {
  if (path_.empty()) return;
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

std::string ScratchDir::Path(absl::string_view name) const {
  return absl::StrCat(path_, "/", name);
}

absl::Status WriteFile(const std::string& path, absl::string_view data, mode_t mode) {
  return WriteFileAtomic(path, data, static_cast<int>(mode));
}

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  return ReadFileLimited(path, 64 << 20);
}

std::string Sha256HexOfFile(const std::string& path) {
  UniqueFd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return "";
  absl::StatusOr<Sha256Digest> d = Sha256OfFile(fd.get());
  return d.ok() ? HexEncode(*d) : "";
}

std::string RandomHex(size_t n) {
  std::string bytes(n, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(bytes.data()), static_cast<int>(n)) != 1) abort();
  return HexEncode(bytes);
}

// ---------------------------------------------------------------------------

absl::StatusOr<std::unique_ptr<JobMounts>> JobMounts::Create(const std::string& base_dir,
                                                             absl::string_view input_name,
                                                             absl::string_view input_content) {
  // This thread (and what it forks) only: the mounts die with the process.
  if (unshare(CLONE_NEWNS) != 0) return ErrnoStatus("unshare(CLONE_NEWNS)", errno);
  if (mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) {
    return ErrnoStatus("mount --make-rprivate /", errno);
  }
  std::unique_ptr<JobMounts> m(new JobMounts());
  m->staging_dir_ = base_dir + "/staging";
  m->input_dir_ = base_dir + "/in";
  m->output_dir_ = base_dir + "/out";
  m->log_dir_ = base_dir + "/log";
  m->input_name_ = std::string(input_name);
  for (const std::string& d : {m->staging_dir_, m->input_dir_, m->output_dir_, m->log_dir_}) {
    if (mkdir(d.c_str(), 0755) != 0) return ErrnoStatus("mkdir " + d, errno);
  }
  if (mount("fdv-in", m->staging_dir_.c_str(), "tmpfs", 0, "size=1m,mode=0755") != 0) {
    return ErrnoStatus("mount tmpfs (input)", errno);
  }
  m->mounted_.push_back(m->staging_dir_);
  RETURN_IF_ERROR(WriteFile(absl::StrCat(m->staging_dir_, "/", input_name), input_content, 0644));
  if (mount(m->staging_dir_.c_str(), m->input_dir_.c_str(), nullptr, MS_BIND, nullptr) != 0) {
    return ErrnoStatus("bind mount (input)", errno);
  }
  m->mounted_.push_back(m->input_dir_);
  if (mount(nullptr, m->input_dir_.c_str(), nullptr, MS_BIND | MS_REMOUNT | MS_RDONLY, nullptr) !=
      0) {
    return ErrnoStatus("remount read-only (input)", errno);
  }
  if (mount("fdv-out", m->output_dir_.c_str(), "tmpfs", 0, "size=4m,mode=0755") != 0) {
    return ErrnoStatus("mount tmpfs (output)", errno);
  }
  m->mounted_.push_back(m->output_dir_);
  return m;
}

JobMounts::~JobMounts() {
  for (auto it = mounted_.rbegin(); it != mounted_.rend(); ++it) umount2(it->c_str(), MNT_DETACH);
}

std::string PhiChecksumProfile(const JobMounts& mounts) {
  return absl::StrCat(R"({"version": 1, "name": "phi-checksum", "on_violation": "errno", "fds": [)",
                      R"({"fd": 0, "role": "phi-input", "access": "r", "open": ")", mounts.input(),
                      R"(", "hash": true},)",
                      R"({"fd": 1, "role": "phi-output", "access": "w", "open": ")",
                      mounts.output_dir(), R"(/checksum.txt"},)",
                      R"({"fd": 2, "role": "audit-log", "access": "a", "open": ")",
                      mounts.log_dir(), R"(/audit.log"}]})");
}

// ---------------------------------------------------------------------------

absl::StatusOr<std::unique_ptr<Fdattestd>> Fdattestd::Start(const std::string& tcti,
                                                            const std::string& dir,
                                                            const std::vector<std::string>& extra) {
  std::unique_ptr<Fdattestd> d(new Fdattestd());
  if (mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) return ErrnoStatus("mkdir " + dir, errno);
  d->socket_ = dir + "/sock";
  d->state_dir_ = dir + "/state";
  d->log_ = dir + "/fdattestd.log";
  UniqueFd log(open(d->log_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600));
  if (!log) return ErrnoStatus("open " + d->log_, errno);
  std::vector<std::string> argv = {FdattestdPath(),         "--socket", d->socket_, "--state-dir",
                                   d->state_dir_,           "--tcti",   tcti,       "--allow-uid",
                                   std::to_string(getuid())};
  argv.insert(argv.end(), extra.begin(), extra.end());
  ExecArgs args(argv, {"TSS2_LOG=all+none"});
  const pid_t pid = fork();
  if (pid == 0) ExecChild(args, log.get(), log.get(), /*die_with_parent=*/true);
  if (pid < 0) return ErrnoStatus("fork", errno);
  d->pid_ = pid;
  const auto deadline = Clock::now() + std::chrono::seconds(30);
  while (Clock::now() < deadline) {
    int status = 0;
    if (waitpid(pid, &status, WNOHANG) == pid) {
      d->pid_ = -1;
      return absl::InternalError("fdattestd exited: " + d->Log());
    }
    UniqueFd s(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::memcpy(addr.sun_path, d->socket_.data(),
                std::min(d->socket_.size(), sizeof(addr.sun_path) - 1));
    if (connect(s.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0) return d;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return absl::DeadlineExceededError("fdattestd not ready: " + d->Log());
}

absl::Status Fdattestd::Stop() {
  if (pid_ <= 0) return absl::OkStatus();
  const pid_t pid = pid_;
  pid_ = -1;
  int status = 0;
  kill(pid, SIGTERM);
  if (WaitChild(pid, Clock::now() + std::chrono::seconds(10), &status)) return absl::OkStatus();
  kill(pid, SIGKILL);
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return absl::DeadlineExceededError("fdattestd ignored SIGTERM and was killed: " + Log());
}

Fdattestd::~Fdattestd() { Stop().IgnoreError(); }

std::string Fdattestd::Log() const { return ReadFile(log_).value_or("(no log)"); }

// ---------------------------------------------------------------------------

absl::StatusOr<Launch> LaunchAttested(const std::string& profile_path, const std::string& socket,
                                      const std::string& dir, absl::string_view name,
                                      absl::string_view nonce_hex, bool with_evidence) {
  const std::string manifest_path = absl::StrCat(dir, "/", name, ".manifest.json");
  const std::string evidence_path = absl::StrCat(dir, "/", name, ".evidence.json");
  std::vector<std::string> argv = {FdlaunchPath(), "--profile",  profile_path, "--manifest-out",
                                   manifest_path,  "--attestor", socket};
  if (with_evidence) {
    argv.insert(argv.end(), {"--evidence-out", evidence_path, "--nonce", std::string(nonce_hex)});
  }
  argv.insert(argv.end(), {"--", kBusybox, "sha256sum"});
  Launch launch;
  launch.process = RunProcess(argv, std::chrono::seconds(30));
  if (launch.process.exit_code != 0) {
    return absl::InternalError(absl::StrCat("fdlaunch ", name, " exited ", launch.process.exit_code,
                                            launch.process.timed_out ? " (timed out)" : "", ": ",
                                            launch.process.err));
  }
  ASSIGN_OR_RETURN(launch.manifest, ReadFile(manifest_path));
  if (with_evidence) {
    ASSIGN_OR_RETURN(launch.evidence, ReadFile(evidence_path));
  }
  return launch;
}

}  // namespace fdattest::e2e
