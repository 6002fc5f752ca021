// A private swtpm (software TPM 2.0) for one test: unix sockets in a short
// temporary directory, state cloned from a template provisioned once per
// process (EK + EK certificate signed by the project's development CA, see
// tools/swtpm/provision.sh), stopped and removed on destruction.
// Not thread-safe. swtpm runs as a child of the thread that called Start() or
// Restart() and is killed when that thread ends (PR_SET_PDEATHSIG), so a
// crashed or timed-out test never leaves a swtpm behind.
#ifndef FDATTEST_TESTS_SUPPORT_SWTPM_H_
#define FDATTEST_TESTS_SUPPORT_SWTPM_H_

#include <sys/types.h>

#include <memory>
#include <string>

#include "common/status.h"

namespace fdattest::testing {

class Swtpm {
 public:
  // provisioned: a clone of the provisioned template (RSA-2048 EK persisted at
  // 0x81010001, its certificate in NV index 0x01c00002, an ECC P-384 EK at
  // 0x81010016 with its certificate in 0x01c00016, sha256 PCR bank only).
  // Otherwise a blank TPM (all four PCR banks, no EK). Either way the TPM is
  // already started up (TPM2_Startup(CLEAR)); a redundant Esys_Startup returns
  // TPM2_RC_INITIALIZE. swtpm serves one client connection at a time.
  static absl::StatusOr<std::unique_ptr<Swtpm>> Start(bool provisioned = true);
  ~Swtpm();  // stops swtpm, removes the directory

  Swtpm(const Swtpm&) = delete;
  Swtpm& operator=(const Swtpm&) = delete;

  const std::string& tcti() const { return tcti_; }  // "swtpm:path=<dir>/sock"
  const std::string& dir() const { return dir_; }    // the state/socket directory

  // The development TPM vendor CA certificate (PEM) that signed the EK
  // certificates; provisions the per-process template if not done yet.
  static absl::StatusOr<std::string> CaCertPemPath();

  // Clean stop (SIGTERM, SIGKILL after a timeout); the state is kept. A no-op
  // when already stopped. Clients must have disconnected first.
  absl::Status Stop();
  // Starts swtpm again on the same state (stopping it first if it runs). The
  // TPM sees a power cycle without TPM2_Shutdown: a TPM Reset.
  absl::Status Restart();

 private:
  explicit Swtpm(std::string dir);
  absl::Status Launch();
  absl::Status WaitReady(pid_t pid);

  std::string dir_;
  std::string tcti_;
  pid_t pid_ = -1;    // the running swtpm child, or -1
  pid_t owner_ = -1;  // the process that made this object
};

}  // namespace fdattest::testing

#endif  // FDATTEST_TESTS_SUPPORT_SWTPM_H_
