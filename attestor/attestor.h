// fdattestd's core: the Attestor (the TPM connection, the AK, the measurement
// register and the event log, reconciled at start) answering protocol
// requests. The socket server that feeds it is attestor/server.h. See
// docs/attestor.md.
//
// The Attestor owns its EsysContext and everything made from it. It is not
// thread-safe: Serve() (attestor/server.h) runs on one thread and serialises
// every request from every connection (the TPM is one client connection; the
// event log has one appender).
#ifndef FDATTEST_ATTESTOR_ATTESTOR_H_
#define FDATTEST_ATTESTOR_ATTESTOR_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "attestor/event_log.h"
#include "attestor/kernel_observer.h"
#include "attestor/observed_launches.h"
#include "attestor/tpm_context.h"
#include "attestor/tpm_keys.h"
#include "attestor/tpm_register.h"
#include "common/attestor_api.h"
#include "common/json.h"
#include "common/register.h"
#include "common/status.h"
#include "common/unique_fd.h"

namespace fdattest {

// The event log's file name inside the state directory.
inline constexpr char kEventLogFile[] = "event-log.jsonl";
// The lock file inside the state directory: one Attestor per state directory.
inline constexpr char kStateLockFile[] = "fdattestd.lock";

struct AttestorOptions {
  std::string tcti;       // e.g. "swtpm:path=DIR/sock" or "device:/dev/tpmrm0"
  std::string state_dir;  // AK blobs, NV register auth, event log; created 0700 if absent
  // Register::Parse syntax, or "nv" for the default NV index.
  std::string register_spec = Register().ToString();
  // PCRs 16 and 23 are resettable by any TPM client (see
  // CheckRegisterNotResettable); refused unless this is set, which only tests do.
  bool allow_resettable_pcr = false;
  // The owner hierarchy's authValue, needed only to define the NV index.
  std::string owner_auth;
  // Whether this kernel can be observed, asked once at start before anything
  // else; empty means ProbeKernelObservation (tests inject a failure here).
  std::function<absl::Status()> probe;
  // When the probe fails: refuse to start (false), or serve and record every
  // launch as not observed, with the probe's message (true; never affirmed
  // by a shipped policy).
  bool allow_unobserved = false;
};

// One client connection, as the server identified it (IdentifyPeer): the
// peer is named by a pidfd taken once, at accept.
struct AttestorConnection {
  uint64_t id = 0;
  PeerProcess peer;
};

class Attestor {
 public:
  // Locks the state directory (FailedPrecondition while another Attestor
  // holds it; checked before the TPM is touched), opens the TPM, loads or
  // creates the AK, opens the register and the event log (truncating a torn
  // tail), starts a new epoch when the TPM was reset, and reconciles the log
  // with the register: consistent -> ready; one record appended but not
  // extended -> extend it, then ready; anything else -> error (DataLoss for a
  // log/register divergence or a damaged log, FailedPrecondition for a
  // refused configuration). The caller must refuse to serve on error.
  static absl::StatusOr<std::unique_ptr<Attestor>> Open(const AttestorOptions& options);
  ~Attestor();
  Attestor(const Attestor&) = delete;
  Attestor& operator=(const Attestor&) = delete;

  // Answers one parsed request from `connection` with one response. Never
  // fails: errors become {"ok":false,...} responses.
  AttestorResponse Handle(const AttestorRequest& request, AttestorConnection& connection);
  // The connection ended: a workload it held and did not release is killed.
  void ConnectionClosed(uint64_t connection_id);

  // Set once a failure left the log and the register possibly out of step
  // (an extend that failed after its record was written, a log write error,
  // a register that no longer matches the log). From then on every request
  // is refused; the daemon must exit so that a restart reconciles.
  const absl::Status& fatal() const { return fatal_; }

  // What Open found and did, for the start-up log line.
  const std::string& startup_summary() const { return startup_summary_; }
  // Why launches are recorded as not observed; empty when they are observed.
  const std::string& not_observed() const { return not_observed_; }
  const Register& reg() const { return log_->reg(); }
  std::string DescribeRegister() const { return register_->Describe(); }

 private:
  Attestor() = default;
  absl::Status Reconcile(const TpmClockInfo& clock);
  absl::StatusOr<InfoResponse> Info();
  absl::StatusOr<MeasureResponse> Measure(const CelContent& content);
  // Certify reloads the AK first if someone flushed it from the TPM.
  absl::StatusOr<CertifyResponse> Certify(absl::string_view qualifying_data);
  absl::Status EnsureAkLoaded();
  absl::StatusOr<LogResponse> Log(absl::string_view launch_id);
  // TPM2_ActivateCredential with the AK (reloaded first if flushed) and the EK.
  absl::StatusOr<ActivateCredentialResponse> ActivateCredential(const AttestorRequest& request);
  absl::Status Fail(absl::Status status);

  // The observed launch and re-attestation (attestor/observed_launches.cc).
  absl::StatusOr<HoldResponse> Hold(const AttestorRequest& request,
                                    const AttestorConnection& connection);
  absl::StatusOr<LaunchResponse> Launch(const AttestorRequest& request,
                                        const AttestorConnection& connection);
  absl::StatusOr<ReleaseResponse> Release(const AttestorRequest& request,
                                          const AttestorConnection& connection);
  absl::StatusOr<ReattestResponse> Reattest(const AttestorRequest& request,
                                            const AttestorConnection& connection);
  bool LaunchIdInLog(absl::string_view launch_id) const;

  // Declaration order is destruction order in reverse: the AK and the
  // register must go before the context they belong to, and the state
  // directory's lock is released last.
  UniqueFd state_lock_;
  std::string state_dir_;
  std::unique_ptr<EsysContext> ctx_;
  std::unique_ptr<AttestationKey> ak_;
  std::unique_ptr<MeasurementRegister> register_;
  std::optional<EventLog> log_;
  std::string ek_certificate_;
  std::string startup_summary_;
  std::string not_observed_;
  // Declared after the log and the register, so destroyed first: held
  // workloads are killed before anything else goes.
  ObservedLaunches launches_;
  absl::Status fatal_;
};

}  // namespace fdattest

#endif  // FDATTEST_ATTESTOR_ATTESTOR_H_
