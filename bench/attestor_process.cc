#include "bench/attestor_process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/cel.h"
#include "common/sha256.h"

extern char** environ;

namespace fdattest::bench {
namespace {

constexpr auto kCallTimeout = std::chrono::seconds(30);

std::string FindOnPath(const std::string& name) {
  if (name.find('/') != std::string::npos) return name;
  const char* path = getenv("PATH");
  for (absl::string_view dir : absl::StrSplit(path ? path : "/usr/bin:/bin", ':')) {
    std::string candidate = absl::StrCat(dir.empty() ? "." : dir, "/", name);
    if (access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return "";
}

}  // namespace

double NowUs() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<double>(ts.tv_sec) * 1e6 + static_cast<double>(ts.tv_nsec) / 1e3;
}

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  if (p == 50 && v.size() % 2 == 0) return (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
  const size_t rank =
      static_cast<size_t>(std::max(1.0, std::ceil(p / 100 * static_cast<double>(v.size()))));
  return v[std::min(rank, v.size()) - 1];
}

std::string RandomBytes(size_t n) {
  std::string out(n, '\0');
  size_t off = 0;
  while (off < n) {
    ssize_t got = getrandom(out.data() + off, n - off, 0);
    if (got < 0 && errno != EINTR) abort();  // no randomness: no benchmark either
    if (got > 0) off += static_cast<size_t>(got);
  }
  return out;
}

std::string NewLaunchId() { return HexEncode(RandomBytes(16)); }

absl::StatusOr<pid_t> Spawn(const std::vector<std::string>& argv, const std::string& stderr_path,
                            const std::vector<std::string>& extra_env) {
  const std::string exe = FindOnPath(argv[0]);
  if (exe.empty()) return absl::NotFoundError(absl::StrCat(argv[0], " not found on PATH"));
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  std::vector<char*> env;
  for (char** e = environ; *e != nullptr; ++e) env.push_back(*e);
  for (const std::string& e : extra_env) env.push_back(const_cast<char*>(e.c_str()));
  env.push_back(nullptr);
  // Opened before fork: only async-signal-safe calls in the child.
  UniqueFd devnull(open("/dev/null", O_WRONLY | O_CLOEXEC));
  UniqueFd err(open(stderr_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600));
  if (!devnull || !err) return ErrnoStatus(absl::StrCat("cannot open ", stderr_path), errno);
  pid_t pid = fork();
  if (pid < 0) return ErrnoStatus("fork", errno);
  if (pid == 0) {
    if (dup2(devnull.get(), 1) < 0 || dup2(err.get(), 2) < 0) _exit(126);
    execve(exe.c_str(), args.data(), env.data());
    _exit(127);
  }
  return pid;
}

absl::Status WaitOk(pid_t pid, const std::string& what, const std::string& stderr_path) {
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return ErrnoStatus("waitpid", errno);
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return absl::OkStatus();
  return absl::InternalError(absl::StrCat(
      what, " failed (", WIFEXITED(status) ? "exit " : "signal ",
      WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status), "); see ", stderr_path));
}

absl::StatusOr<Fdattestd> Fdattestd::Start(const std::string& binary, const std::string& tcti,
                                           const std::string& work) {
  Fdattestd d;
  d.socket_ = work + "/fdattestd.sock";
  d.state_ = work + "/state";
  d.err_ = work + "/fdattestd.err";
  ASSIGN_OR_RETURN(d.pid_, Spawn({binary, "--socket", d.socket_, "--state-dir", d.state_, "--tcti",
                                  tcti, "--allow-uid", std::to_string(getuid())},
                                 d.err_, {}));
  for (int i = 0;; ++i) {  // up to 20 s: start-up creates the AK
    int wstatus = 0;
    if (waitpid(d.pid_, &wstatus, WNOHANG) == d.pid_) {
      d.pid_ = -1;
      return absl::InternalError(absl::StrCat("fdattestd exited at start-up; see ", d.err_));
    }
    if (access(d.socket_.c_str(), F_OK) == 0 && AttestorConnection::Connect(d.socket_).ok()) break;
    if (i == 2000) return absl::DeadlineExceededError("fdattestd did not start within 20 s");
    usleep(10000);
  }
  return d;
}

Fdattestd::Fdattestd(Fdattestd&& other) noexcept
    : pid_(std::exchange(other.pid_, -1)),
      socket_(std::move(other.socket_)),
      state_(std::move(other.state_)),
      err_(std::move(other.err_)) {}

Fdattestd::~Fdattestd() {
  if (pid_ > 0) (void)Stop();
}

absl::Status Fdattestd::Stop() {
  if (pid_ <= 0) return absl::OkStatus();
  kill(pid_, SIGTERM);
  const pid_t pid = std::exchange(pid_, -1);
  return WaitOk(pid, "fdattestd (stopped with SIGTERM)", err_);
}

absl::StatusOr<AttestorConnection> AttestorConnection::Connect(const std::string& path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof(addr.sun_path)) return absl::InvalidArgumentError("socket path too long");
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  UniqueFd fd(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) return ErrnoStatus("socket", errno);
  if (connect(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) != 0) {
    return ErrnoStatus(absl::StrCat("connect ", path), errno);
  }
  return AttestorConnection(std::move(fd));
}

absl::StatusOr<AttestorResponse> AttestorConnection::Call(const AttestorRequest& request) {
  const Deadline deadline = std::chrono::steady_clock::now() + kCallTimeout;
  ASSIGN_OR_RETURN(std::string payload, request.Serialize());
  RETURN_IF_ERROR(WriteFrame(fd_.get(), payload, deadline));
  ASSIGN_OR_RETURN(std::string answer, ReadFrame(fd_.get(), deadline));
  ASSIGN_OR_RETURN(AttestorResponse response, ParseResponse(request.op, answer));
  if (const ErrorResponse* error = std::get_if<ErrorResponse>(&response)) {
    return absl::Status(error->code,
                        absl::StrCat("fdattestd refused ", OpName(request.op), ": ", error->message));
  }
  return response;
}

absl::Status ObservedLaunch(AttestorConnection& attestor, const ConfinedWorkload& workload,
                            ConfinedChild& child, const std::string& launch_id,
                            const std::string& nonce, LaunchTimes* times,
                            const std::string& event_log) {
  ASSIGN_OR_RETURN(const std::string manifest, workload.ManifestFor(launch_id));
  LaunchTimes t;
  double t0 = NowUs();
  ASSIGN_OR_RETURN(HoldResponse hold,
                   attestor.CallFor<HoldResponse>(AttestorRequest::Hold(launch_id, child.pid())));
  if (!hold.observing) return absl::FailedPreconditionError("fdattestd does not observe");
  double t1 = NowUs();
  t.hold_us = t1 - t0;
  RETURN_IF_ERROR(child.Go());
  RETURN_IF_ERROR(child.WaitExecuted());
  t0 = NowUs();
  t.exec_us = t0 - t1;
  ASSIGN_OR_RETURN(LaunchResponse launched, attestor.CallFor<LaunchResponse>(
                                                AttestorRequest::Launch(launch_id, manifest, nonce)));
  if (launched.observation_recnum != launched.manifest_recnum + 1) {
    return absl::InternalError("launch: the observation is not the record after the manifest");
  }
  t1 = NowUs();
  t.launch_us = t1 - t0;
  ASSIGN_OR_RETURN(CelContent separator, CelContent::LaunchSeparator(launch_id));
  struct stat before{}, after{};
  if (!event_log.empty() && stat(event_log.c_str(), &before) != 0) {
    return ErrnoStatus(absl::StrCat("stat ", event_log), errno);
  }
  t1 = NowUs();
  ASSIGN_OR_RETURN(MeasureResponse measured,
                   attestor.CallFor<MeasureResponse>(AttestorRequest::Measure(std::move(separator))));
  if (measured.recnum != launched.observation_recnum + 1) {
    return absl::InternalError("the separator is not the record after the observation");
  }
  t0 = NowUs();
  t.separator_us = t0 - t1;
  if (!event_log.empty()) {
    if (stat(event_log.c_str(), &after) != 0) return ErrnoStatus(absl::StrCat("stat ", event_log), errno);
    t.separator_bytes = static_cast<double>(after.st_size - before.st_size);
  }
  t0 = NowUs();
  ASSIGN_OR_RETURN(ReleaseResponse released,
                   attestor.CallFor<ReleaseResponse>(AttestorRequest::Release(launch_id)));
  (void)released;
  t.release_us = NowUs() - t0;
  if (times != nullptr) *times = t;
  return absl::OkStatus();
}

}  // namespace fdattest::bench
