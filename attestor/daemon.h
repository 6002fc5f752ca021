// fdattestd's core: the Attestor (the TPM connection, the AK, the measurement
// register and the event log, reconciled at start) answering protocol
// requests, and the serving loop that accepts local clients on a unix socket,
// authorises them by SO_PEERCRED and hands their requests to the Attestor one
// at a time. See docs/attestor.md.
//
// The Attestor owns its EsysContext and everything made from it. It is not
// thread-safe: Serve() runs on one thread and serialises every request from
// every connection (the TPM is one client connection; the event log has one
// appender).
#ifndef FDATTEST_ATTESTOR_DAEMON_H_
#define FDATTEST_ATTESTOR_DAEMON_H_

#include <sys/types.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "attestor/event_log.h"
#include "attestor/protocol.h"
#include "attestor/tpm_context.h"
#include "attestor/tpm_keys.h"
#include "attestor/tpm_register.h"
#include "common/json.h"
#include "common/status.h"
#include "common/unique_fd.h"

namespace fdattest {

// The event log's file name inside the state directory.
inline constexpr char kEventLogFile[] = "event-log.jsonl";

struct AttestorOptions {
  std::string tcti;       // e.g. "swtpm:path=DIR/sock" or "device:/dev/tpmrm0"
  std::string state_dir;  // AK blobs, NV register auth, event log; created 0700 if absent
  std::string register_spec = Register().ToString();  // Register::Parse syntax
  // PCRs 16 and 23 are resettable by any TPM client (see
  // CheckRegisterNotResettable); refused unless this is set, which only tests do.
  bool allow_resettable_pcr = false;
  // The owner hierarchy's authValue, needed only to define the NV index.
  std::string owner_auth;
};

class Attestor {
 public:
  // Opens the TPM, loads or creates the AK, opens the register and the event
  // log (truncating a torn tail), starts a new epoch when the TPM was reset,
  // and reconciles the log with the register: consistent -> ready; one record
  // appended but not extended -> extend it, then ready; anything else ->
  // error (DataLoss for a log/register divergence or a damaged log,
  // FailedPrecondition for a refused configuration). The caller must refuse
  // to serve on error.
  static absl::StatusOr<std::unique_ptr<Attestor>> Open(const AttestorOptions& options);
  ~Attestor();
  Attestor(const Attestor&) = delete;
  Attestor& operator=(const Attestor&) = delete;

  // Answers one request payload with one response payload (canonical JSON).
  // Never fails: errors become {"ok":false,...} responses.
  std::string HandlePayload(absl::string_view payload);
  Json Handle(const Request& request);

  // Set once a failure left the log and the register possibly out of step
  // (an extend that failed after its record was written, a log write error,
  // a register that no longer matches the log). From then on every request
  // is refused; the daemon must exit so that a restart reconciles.
  const absl::Status& fatal() const { return fatal_; }

  // What Open found and did, for the start-up log line.
  const std::string& startup_summary() const { return startup_summary_; }
  const Register& reg() const { return log_->reg(); }
  std::string DescribeRegister() const { return register_->Describe(); }

 private:
  Attestor() = default;
  absl::Status Reconcile(const TpmClockInfo& clock);
  absl::StatusOr<Json> Info();
  absl::StatusOr<Json> Measure(const CelContent& content);
  absl::StatusOr<Json> Certify(absl::string_view qualifying_data);
  absl::StatusOr<Json> Log(absl::string_view launch_id);
  Json RegisterJson() const;
  absl::Status Fail(absl::Status status);

  // Declaration order is destruction order in reverse: the AK and the
  // register must go before the context they belong to.
  std::unique_ptr<EsysContext> ctx_;
  std::unique_ptr<AttestationKey> ak_;
  std::unique_ptr<MeasurementRegister> register_;
  std::optional<EventLog> log_;
  std::string ek_certificate_;
  std::string startup_summary_;
  absl::Status fatal_;
};

// Which local peers may use the API: a peer whose uid is in `uids` or whose
// gid is in `gids` (SO_PEERCRED, taken at connect time).
struct PeerPolicy {
  std::vector<uid_t> uids = {0};
  std::vector<gid_t> gids;
  bool Allows(uid_t uid, gid_t gid) const;
  std::string Describe() const;
};

struct ServeOptions {
  PeerPolicy policy;
  // A connection must deliver each complete request within this time of
  // connecting or of its previous response, else it is closed.
  std::chrono::milliseconds read_timeout{5000};
  // Connections held at once; further clients wait in the listen backlog.
  size_t max_connections = 64;
};

// Binds and listens on a unix stream socket at `path`, mode 0660. An existing
// socket file is replaced only when nothing accepts connections on it
// (FailedPrecondition when another server does); any other file there is an
// error.
absl::StatusOr<UniqueFd> ListenOnUnixSocket(const std::string& path);
// FailedPrecondition when a server accepts connections at `path` (checked
// before the TPM is opened, so a second daemon fails fast).
absl::Status CheckSocketUnused(const std::string& path);

// Accepts and serves clients until `stop_fd` becomes readable (returns OK)
// or the attestor turns fatal (returns attestor.fatal()). Every connection is
// non-blocking and bounded in time; a broken frame closes only its own
// connection.
absl::Status Serve(Attestor& attestor, int listen_fd, int stop_fd, const ServeOptions& options);

}  // namespace fdattest

#endif  // FDATTEST_ATTESTOR_DAEMON_H_
