// How fdattestd reads processes from the kernel, not from what they say
// (docs/attestor.md, "Observation"): the socket peer identified by a pidfd
// and its executable hashed from /proc; a launcher's child held under ptrace
// from before its exec to after its observation; a running workload stopped
// briefly to be observed again; and a start-up probe that says whether this
// kernel can be read at all.
//
// Every process is named by a pidfd, never by a pid alone: a pid is turned
// into a pidfd once and every later read of /proc/PID is checked against the
// pidfd (the process still alive afterwards), so a pid reused by another
// process is never read as the one meant. Not thread-safe: the attestor's
// one serving thread owns every TracedProcess.
#ifndef FDATTEST_ATTESTOR_KERNEL_OBSERVER_H_
#define FDATTEST_ATTESTOR_KERNEL_OBSERVER_H_

#include <sys/types.h>

#include <chrono>
#include <string>

#include "common/observation.h"
#include "common/status.h"
#include "common/unique_fd.h"

namespace fdattest {

using ObserveDeadline = std::chrono::steady_clock::time_point;

// The process at the other end of a connected unix socket, from the kernel:
// SO_PEERPIDFD where the kernel has it, else SO_PEERCRED's pid turned into a
// pidfd and checked to be the same process (its start time read before and
// after, and the socket's peer credentials read again).
struct PeerProcess {
  UniqueFd pidfd;
  pid_t pid = 0;
  uid_t uid = 0;
  gid_t gid = 0;
};
absl::StatusOr<PeerProcess> IdentifyPeer(int socket_fd);

// sha256 (hex) of the executable the process behind `pidfd` runs
// (/proc/PID/exe read by this process), checked to be that process's after
// reading. NotFound "gone" when it has exited.
absl::StatusOr<std::string> ExecutableDigestOf(int pidfd);

// True once the process behind `pidfd` has exited (its pidfd polls readable),
// zombie or reaped.
bool ProcessGone(int pidfd);

// A process this attestor traces (ptrace(2)). The destructor detaches if still
// attached (the process runs on) — use Kill() to end it instead.
class TracedProcess {
 public:
  // Launch: takes the process `pid`, which must be a child of `parent` (the
  // requesting peer: a launcher can hand over only its own children) and
  // must not be traced by anyone; PTRACE_SEIZE with PTRACE_O_TRACEEXEC and
  // PTRACE_O_EXITKILL (if the attestor dies, the held process dies with it).
  // PermissionDenied when `pid` is not `parent`'s child.
  static absl::StatusOr<TracedProcess> SeizeChild(pid_t pid, int parent_pidfd);
  // Waits until the held process stops at its exec (PTRACE_EVENT_EXEC: after
  // the new program is loaded and close-on-exec descriptors are closed,
  // before its first instruction). FailedPrecondition when it exits or stops
  // for anything else first (it is then killed), DeadlineExceeded at the
  // deadline.
  absl::Status WaitForExec(ObserveDeadline deadline);

  // Re-attestation: seizes and stops (PTRACE_INTERRUPT) the running process
  // behind `pidfd`. NotFound "gone" when it has exited, or when the pid
  // now names another process.
  static absl::StatusOr<TracedProcess> SeizeAndStop(int pidfd, ObserveDeadline deadline);

  // Reads the stopped process: filters (PTRACE_SECCOMP_GET_FILTER), status,
  // executable, root, namespaces, fd table (/proc/PID/fd, fdinfo,
  // pidfd_getfd + fstat + socket options). NotFound "gone" if it died.
  absl::StatusOr<KernelObservation> Observe() const;

  // Lets the process run (PTRACE_DETACH); the tracer is gone for good.
  absl::Status Detach();
  // SIGKILL through the pidfd, then consumes the tracee's exit report so its
  // parent can reap it.
  void Kill();

  int pidfd() const { return pidfd_.get(); }
  pid_t pid() const { return pid_; }
  // A duplicate of the pidfd, to keep after the trace ends (re-attestation).
  absl::StatusOr<UniqueFd> DupPidfd() const;

  TracedProcess(TracedProcess&& other) noexcept;
  TracedProcess& operator=(TracedProcess&& other) noexcept;
  ~TracedProcess();

 private:
  TracedProcess(UniqueFd pidfd, pid_t pid) : pidfd_(std::move(pidfd)), pid_(pid) {}
  UniqueFd pidfd_;
  pid_t pid_ = 0;
  bool attached_ = false;
  // A signal whose delivery stop SeizeAndStop met first: handed back at the
  // detach, so observing never swallows a signal.
  int pending_signal_ = 0;
};

// Whether this attestor can observe on this kernel: forks a child that
// installs a one-instruction filter, seizes it, and reads the filter back.
// FailedPrecondition naming what is missing, e.g. "PTRACE_SECCOMP_GET_FILTER
// is not available (kernel without CONFIG_CHECKPOINT_RESTORE): ..." or
// "ptrace is refused (Yama ptrace_scope 3): ...". Called once at start-up.
absl::Status ProbeKernelObservation();

}  // namespace fdattest

#endif  // FDATTEST_ATTESTOR_KERNEL_OBSERVER_H_
