// Shared fixture of the cross-component verifier tests: genuine evidence from
// the real binaries. A private swtpm (tests/support/swtpm.h), the real
// fdattestd on it, the real fdlaunch running Debian's busybox-static
// `sha256sum` under a phi-checksum profile whose input sits on a read-only
// mount and whose outputs sit on a writable tmpfs (a private mount namespace of
// the calling thread), and child processes run by fork/exec with deadlines
// (no shell). Single-threaded: call from the test thread.
#ifndef FDATTEST_TESTS_VERIFIER_EVIDENCE_FIXTURE_H_
#define FDATTEST_TESTS_VERIFIER_EVIDENCE_FIXTURE_H_

#include <sys/types.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "common/status.h"

namespace fdattest::e2e {

// Binaries under test and source files (CMake compile definitions).
inline const char* FdlaunchPath() { return FDATTEST_FDLAUNCH; }
inline const char* FdattestdPath() { return FDATTEST_FDATTESTD; }
inline const char* FdattestPath() { return FDATTEST_FDATTEST; }
inline std::string SourcePath(absl::string_view relative) {
  return std::string(FDATTEST_SOURCE_DIR) + "/" + std::string(relative);
}
// Debian's busybox-static: the workload.
inline constexpr char kBusybox[] = "/bin/busybox";
// The measurement PCR of PCR mode (not resettable from locality 0).
inline constexpr int kMeasurementPcr = 15;

struct ProcessResult {
  bool timed_out = false;
  int exit_code = -1;  // -1: killed by a signal or timed out
  std::string out;
  std::string err;
};

// Runs argv (argv[0] looked up in PATH when it has no '/') with stdin from
// /dev/null and stdout/stderr captured, every other descriptor closed;
// SIGKILLed after `timeout`.
ProcessResult RunProcess(const std::vector<std::string>& argv,
                         std::chrono::milliseconds timeout = std::chrono::seconds(60));

// A short directory under /tmp (unix socket paths are limited), removed with
// its contents on destruction.
class ScratchDir {
 public:
  ScratchDir();
  ~ScratchDir();
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  bool ok() const { return !path_.empty(); }
  const std::string& path() const { return path_; }
  std::string Path(absl::string_view name) const;

 private:
  std::string path_;
};

absl::Status WriteFile(const std::string& path, absl::string_view data, mode_t mode = 0644);
absl::StatusOr<std::string> ReadFile(const std::string& path);
std::string Sha256HexOfFile(const std::string& path);  // "" when unreadable

// Where the job's files live. The calling thread moves into a private mount
// namespace (so the mounts vanish with the process whatever happens), mounts a
// tmpfs holding the input file and bind-mounts it read-only at input_dir(),
// and a writable tmpfs at output_dir() (memory only: never at rest); the
// audit log goes to log_dir(), a plain directory on the scratch directory's
// disk (durable). Unmounted on destruction.
class JobMounts {
 public:
  static absl::StatusOr<std::unique_ptr<JobMounts>> Create(const std::string& base_dir,
                                                           absl::string_view input_name,
                                                           absl::string_view input_content);
  ~JobMounts();
  JobMounts(const JobMounts&) = delete;
  JobMounts& operator=(const JobMounts&) = delete;

  std::string input() const { return input_dir_ + "/" + input_name_; }
  const std::string& output_dir() const { return output_dir_; }
  const std::string& log_dir() const { return log_dir_; }

 private:
  JobMounts() = default;
  std::string staging_dir_, input_dir_, output_dir_, log_dir_, input_name_;
  std::vector<std::string> mounted_;  // innermost last
};

// The phi-checksum profile (examples/profiles/phi-checksum.json) for `mounts`:
// fd 0 phi-input r (hashed), fd 1 phi-output w, fd 2 audit-log a.
std::string PhiChecksumProfile(const JobMounts& mounts);

// fdattestd on a TPM, its socket, state and log under `dir` (created 0700).
class Fdattestd {
 public:
  // `extra`: more options, e.g. {"--register", "pcr:15"}. The calling uid
  // is allowed.
  static absl::StatusOr<std::unique_ptr<Fdattestd>> Start(const std::string& tcti,
                                                          const std::string& dir,
                                                          const std::vector<std::string>& extra);
  ~Fdattestd();
  Fdattestd(const Fdattestd&) = delete;
  Fdattestd& operator=(const Fdattestd&) = delete;

  // SIGTERM, then SIGKILL; afterwards the daemon holds no TPM connection.
  absl::Status Stop();
  const std::string& socket() const { return socket_; }
  const std::string& state_dir() const { return state_dir_; }
  std::string ak_public_path() const { return state_dir_ + "/ak.pub"; }
  absl::StatusOr<std::string> AkPublic() const { return ReadFile(ak_public_path()); }
  std::string Log() const;

 private:
  Fdattestd() = default;
  pid_t pid_ = -1;
  std::string socket_, state_dir_, log_;
};

struct Launch {
  ProcessResult process;
  std::string manifest;  // the --manifest-out bytes
  std::string evidence;  // the --evidence-out bytes (empty without evidence)
};

// fdlaunch --profile PROFILE --manifest-out DIR/NAME.manifest.json
//   --attestor SOCKET [--evidence-out DIR/NAME.evidence.json --nonce NONCE_HEX]
//   -- /bin/busybox sha256sum
// Fails unless fdlaunch and the workload exit 0 and the files were written.
absl::StatusOr<Launch> LaunchAttested(const std::string& profile_path, const std::string& socket,
                                      const std::string& dir, absl::string_view name,
                                      absl::string_view nonce_hex, bool with_evidence = true);

// 2*n lowercase hex digits of fresh random bytes.
std::string RandomHex(size_t n);

}  // namespace fdattest::e2e

#endif  // FDATTEST_TESTS_VERIFIER_EVIDENCE_FIXTURE_H_
