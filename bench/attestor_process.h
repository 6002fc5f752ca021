// fdattestd as the attestor benchmarks run it (docs/BENCHMARKS.md sections 4
// and 10): the daemon started as a process on a swtpm, one connection to it
// speaking the real protocol with the typed messages of common/attestor_api.h,
// and the launcher's side of an observed launch (hold, let the child exec,
// launch, separator, release) for a ConfinedChild. Every answer is checked: an
// error response becomes an error status, so a refusal never becomes a
// figure. Single-threaded benchmarks only.
#ifndef FDATTEST_BENCH_ATTESTOR_PROCESS_H_
#define FDATTEST_BENCH_ATTESTOR_PROCESS_H_

#include <sys/types.h>

#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "bench/confined_child.h"
#include "common/attestor_api.h"
#include "common/status.h"
#include "common/unique_fd.h"

namespace fdattest::bench {

// Starts argv[0] (found on PATH unless it has a '/') with stdout to /dev/null
// and stderr appended to `stderr_path`; `extra_env` ("K=V") is added.
absl::StatusOr<pid_t> Spawn(const std::vector<std::string>& argv, const std::string& stderr_path,
                            const std::vector<std::string>& extra_env);
// Waits for `pid`; OK only for exit status 0.
absl::Status WaitOk(pid_t pid, const std::string& what, const std::string& stderr_path);

// fdattestd on `tcti` with its socket and state under `work`, allowing this
// uid; stopped with SIGTERM (exit 0 required) by Stop().
class Fdattestd {
 public:
  static absl::StatusOr<Fdattestd> Start(const std::string& binary, const std::string& tcti,
                                         const std::string& work);
  Fdattestd(Fdattestd&& other) noexcept;
  Fdattestd& operator=(Fdattestd&&) = delete;
  ~Fdattestd();

  const std::string& socket_path() const { return socket_; }
  const std::string& state_dir() const { return state_; }
  absl::Status Stop();

 private:
  Fdattestd() = default;
  pid_t pid_ = -1;
  std::string socket_, state_, err_;
};

class AttestorConnection {
 public:
  static absl::StatusOr<AttestorConnection> Connect(const std::string& socket_path);

  // One request, its answer; an ErrorResponse is returned as its status.
  absl::StatusOr<AttestorResponse> Call(const AttestorRequest& request);
  template <typename T>
  absl::StatusOr<T> CallFor(const absl::StatusOr<AttestorRequest>& request) {
    RETURN_IF_ERROR(request.status());
    ASSIGN_OR_RETURN(AttestorResponse response, Call(*request));
    if (T* answer = std::get_if<T>(&response)) return std::move(*answer);
    return absl::InternalError(absl::StrCat("unexpected answer to ", OpName(request->op)));
  }

 private:
  explicit AttestorConnection(UniqueFd fd) : fd_(std::move(fd)) {}
  UniqueFd fd_;
};

// 16 random bytes as 32 lowercase hex digits; `n` random bytes.
std::string NewLaunchId();
std::string RandomBytes(size_t n);

// A launch done as fdlaunch does it, as far as the attestor sees: hold the
// forked child, let it go, wait for its exec, `launch` with the manifest of
// `launch_id` and `nonce`, measure the separator, `release`. The child runs
// on afterwards (the caller reaps it). Fills the figures it was asked for.
// With `event_log` (the daemon's log file), also the bytes the separator's
// record added to it (stat before and after, untimed).
struct LaunchTimes {
  double hold_us = 0, exec_us = 0, launch_us = 0, separator_us = 0, release_us = 0;
  double separator_bytes = 0;
};
absl::Status ObservedLaunch(AttestorConnection& attestor, const ConfinedWorkload& workload,
                            ConfinedChild& child, const std::string& launch_id,
                            const std::string& nonce, LaunchTimes* times,
                            const std::string& event_log = "");

double NowUs();
// Nearest-rank percentile of `v` (the median of an even count: the mean of
// the two middle values).
double Percentile(std::vector<double> v, double p);

}  // namespace fdattest::bench

#endif  // FDATTEST_BENCH_ATTESTOR_PROCESS_H_
