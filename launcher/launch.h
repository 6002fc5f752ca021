// The launch sequence (docs/launcher.md) as one flat list of steps, numbered
// in the order they run (launch.cc). An unattested launch execs in place:
// Launch() returns only on failure, and on success the process has become
// the workload. An attested launch runs the workload as this process's child,
// observed by the attestor before its first instruction (observed_exec.h):
// Launch() returns the workload's exit status once it has ended (its exit
// code, or 128 + the signal that ended it), or an error when the launch was
// refused before the workload ran (the child is then killed and reaped).
// Single-threaded: call from main() only.
#ifndef FDATTEST_LAUNCHER_LAUNCH_H_
#define FDATTEST_LAUNCHER_LAUNCH_H_

#include <optional>
#include <string>
#include <vector>

#include "common/status.h"

namespace fdattest {

class SecretSource;  // launcher/secret_source.h

inline constexpr int kExitLaunchFailed = 125;

struct LaunchOptions {
  std::string profile_path;
  std::optional<std::string> manifest_out;
  std::optional<std::string> filter_out;
  // A directory of compiled filters (filter_cache.h); none when absent.
  std::optional<std::string> filter_cache;
  // The attestor's socket: the workload is observed, and the manifest, the
  // observation and a launch separator measured, before it runs.
  std::optional<std::string> attestor;
  // With `attestor`: write the evidence bundle here.
  std::optional<std::string> evidence_out;
  // Raw nonce bytes (1..64) the launch is bound to; with `evidence_out`, 32
  // random bytes when absent.
  std::optional<std::string> nonce;
  // The secrets to obtain after attestation (--release NAME): exactly the
  // names of the profile's secret fds, from `secret_source` (not owned; it
  // outlives the launch). The evidence then carries the source's challenge.
  std::vector<std::string> release;
  SecretSource* secret_source = nullptr;
  std::vector<std::string> argv;  // PROGRAM, ARGS...
};

// Writes "fdlaunch: <level>: <message>" lines to a private close-on-exec
// copy of the launcher's stderr, so diagnostics survive the closing of an
// undeclared fd 2 and never reach the workload. Warnings are held back until
// the launch goes on (PrintWarnings, just before the point of no return): a
// launch that fails says only why.
class Diagnostics {
 public:
  // Call first; `min_fd` keeps the copy above every declared number.
  void Open(int min_fd);
  void Warn(absl::string_view message);
  void PrintWarnings();
  void Error(absl::string_view message) const;
  int fd() const { return fd_; }

 private:
  void Line(absl::string_view level, absl::string_view message) const;
  int fd_ = 2;
  std::vector<std::string> warnings_;
};

absl::StatusOr<int> Launch(const LaunchOptions& options, Diagnostics& diag);

}  // namespace fdattest

#endif  // FDATTEST_LAUNCHER_LAUNCH_H_
