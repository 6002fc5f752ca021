// A workload started the way an attested fdlaunch launch starts it, for the
// benchmarks that need real launches (docs/BENCHMARKS.md sections 4 and 10):
// a child of the benchmark that waits on a pipe until it is let go, then puts
// its four declared descriptors at 0..3, empties its capability sets
// (DropCapabilitiesForExec) and runs the launcher's own final step,
// ExecConfined (launcher/final_exec.h): the empty root, no_new_privs, every
// undeclared descriptor closed, the launcher's filter for those descriptors
// installed, and execveat of a sealed memfd copy of a static program
// (OpenExecutable, as fdlaunch opens it). The parent learns the exec happened
// from a close-on-exec pipe reaching end of file.
//
// ConfinedWorkload is what every launch of one program shares, made once and
// untimed: the executable, the declared descriptors, the filter compiled with
// the launcher's CompileFilter, and a manifest of the real facts (fd
// fingerprints, namespaces, credentials), as fdlaunch writes it, so that the
// attestor's observation of a child matches it. Single-threaded benchmarks
// only (the child runs after fork without exec).
#ifndef FDATTEST_BENCH_CONFINED_CHILD_H_
#define FDATTEST_BENCH_CONFINED_CHILD_H_

#include <sys/types.h>

#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "common/manifest.h"
#include "common/status.h"
#include "common/unique_fd.h"

namespace fdattest::bench {

// The workload's descriptors: 0 read (/dev/null, or the read end of a pipe
// the benchmark keeps the write end of), 1 and 2 write (/dev/null), 3 read
// and write (one end of a unix socket pair the benchmark holds the other end
// of). The executable is at 4, close-on-exec, and is the filter's exec fd.
inline constexpr int kDeclaredFds = 4;
inline constexpr int kExeFd = 4;

class ConfinedWorkload {
 public:
  // `program`: a static executable. `stdin_pipe`: fd 0 is a pipe whose write
  // end stdin_writer() holds (a workload that reads fd 0 until end of file
  // then blocks until the benchmark closes it).
  static absl::StatusOr<ConfinedWorkload> Create(const std::string& program, bool stdin_pipe);

  // The manifest without a launch id (fdlaunch's fields, launch_id empty).
  const Manifest& manifest() const { return manifest_; }
  // The exact canonical manifest bytes of a launch with `launch_id`.
  absl::StatusOr<std::string> ManifestFor(absl::string_view launch_id) const;
  const std::string& bpf() const { return bpf_; }
  // Closes the write end of fd 0's pipe: a workload reading fd 0 sees end of file.
  void CloseStdin() { stdin_writer_.reset(); }

 private:
  friend class ConfinedChild;
  ConfinedWorkload() = default;

  UniqueFd exe_;
  std::vector<UniqueFd> fds_;  // index = the workload's fd number
  UniqueFd socket_peer_;       // the other end of fd 3
  UniqueFd stdin_writer_;
  std::string bpf_;
  Manifest manifest_;
};

// One launch of a ConfinedWorkload.
class ConfinedChild {
 public:
  // Forks the child; it waits for Go() (and dies with this process).
  static absl::StatusOr<ConfinedChild> Fork(const ConfinedWorkload& workload);

  ConfinedChild(ConfinedChild&& other) noexcept;
  ConfinedChild& operator=(ConfinedChild&&) = delete;
  // Kills and reaps the child unless Reap() took its status.
  ~ConfinedChild();

  pid_t pid() const { return pid_; }
  // Lets the child go on to its exec.
  absl::Status Go();
  // Blocks until the child exec'd (its end of the exec pipe closed by the
  // exec). Internal with the child's exit status when it ended first.
  absl::Status WaitExecuted();
  // Waits for the child's end; its wait status.
  int Reap();
  // Reaps and checks that the child exited 0.
  absl::Status ReapOk();

 private:
  ConfinedChild() = default;
  pid_t pid_ = 0;
  UniqueFd go_;
  UniqueFd exec_done_;
};

}  // namespace fdattest::bench

#endif  // FDATTEST_BENCH_CONFINED_CHILD_H_
