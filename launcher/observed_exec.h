// The attested launch's workload as the launcher's child (docs/launcher.md,
// "The launch sequence", steps 8 to 13): the child is forked before the
// attestor is asked to hold it, waits until the launcher lets it go, then
// runs ExecConfined (final_exec.h) with a close-on-exec pipe among its
// private descriptors, so that the launcher learns the exec happened from
// that pipe's end of file (a failure before the exec is written into the pipe
// instead). The launcher stays the workload's parent: it kills the child
// through a pidfd when the launch is refused before release, and afterwards
// waits for it, forwarding SIGTERM, SIGINT and SIGHUP, and takes its status.
// Move-only; single-threaded launcher only.
#ifndef FDATTEST_LAUNCHER_OBSERVED_EXEC_H_
#define FDATTEST_LAUNCHER_OBSERVED_EXEC_H_

#include <sys/types.h>

#include <chrono>

#include "common/status.h"
#include "common/unique_fd.h"
#include "launcher/final_exec.h"

namespace fdattest {

class HeldWorkload {
 public:
  // Forks the child. It dies with the launcher (PR_SET_PDEATHSIG SIGKILL,
  // and a check that its parent is still the launcher), and waits for Go()
  // before it changes anything. `plan` must outlive nothing: it is copied
  // into the child by the fork.
  static absl::StatusOr<HeldWorkload> Fork(const ExecPlan& plan);

  HeldWorkload(HeldWorkload&&) = default;
  HeldWorkload& operator=(HeldWorkload&&) = delete;
  // Kills and reaps the child unless Wait() already took its status.
  ~HeldWorkload();

  pid_t pid() const { return pid_; }

  // Lets the child go on and waits (bounded) until its exec happened. The
  // child's own error when it failed before the exec (root, no_new_privs,
  // descriptors, filter); FailedPrecondition when it ended without exec.
  absl::Status GoAndWaitForExec(std::chrono::milliseconds timeout);

  // SIGKILL through the pidfd, then reaps the child (bounded: a child still
  // traced is reported to its parent only once the tracer lets it go).
  void Kill();

  // After the release: waits for the workload, forwarding SIGTERM, SIGINT
  // and SIGHUP to it, and returns its exit code, or 128 + the signal that
  // ended it.
  int Wait();

 private:
  HeldWorkload(pid_t pid, UniqueFd pidfd, UniqueFd go, UniqueFd exec_done)
      : pid_(pid), pidfd_(std::move(pidfd)), go_(std::move(go)), exec_done_(std::move(exec_done)) {}

  pid_t pid_ = -1;
  UniqueFd pidfd_;
  UniqueFd go_;         // write end: one byte lets the child go on
  UniqueFd exec_done_;  // read end: EOF once the child exec'd
  bool reaped_ = false;
};

}  // namespace fdattest

#endif  // FDATTEST_LAUNCHER_OBSERVED_EXEC_H_
