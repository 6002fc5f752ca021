// The attestor's event log: TCG Canonical Event Log (CEL) records in JSON, one
// canonical record per line, written durably before the measurement register
// is extended and replayed on start to the value the register must hold.
// Format, replay rules and the crash-recovery protocol: docs/formats/event-log.md.
//
// Register, CelContent, CelRecord and CelReplay are pure values with no file
// or TPM access (safe to share between threads as const values). EventLog owns
// one log file (and an exclusive flock on it); it is not thread-safe: the
// attestor serialises every request, so one thread appends at a time.
#ifndef FDATTEST_ATTESTOR_EVENT_LOG_H_
#define FDATTEST_ATTESTOR_EVENT_LOG_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "common/cel.h"
#include "common/json.h"
#include "common/sha256.h"
#include "common/status.h"
#include "common/unique_fd.h"

namespace fdattest {

// ---------------------------------------------------------------------------
// The log file.

// How the register compares with the log (EventLog::ReconcileWith).
struct Reconciliation {
  enum class State {
    kConsistent,  // register == replay of the current epoch
    kOnePending,  // register == value before the last record: appended, not extended
    kDiverged,    // anything else: refuse to serve
  };
  State state = State::kDiverged;
  std::optional<CelRecord> pending;  // kOnePending: extend pending->digest
  std::string explanation;           // for people; always set
};

struct RepairResult {
  uint64_t bytes_removed = 0;  // length of the torn tail that was truncated
  uint64_t records_kept = 0;
};

class EventLog {
 public:
  // Opens (creating it, mode 0600, and syncing its directory, if absent) and
  // replays the log at `path`, holding an exclusive flock on it for the
  // object's lifetime. Errors: DataLoss for a torn last line (see Repair) or
  // any record that breaks the rules, with line number and reason;
  // FailedPrecondition if another process holds the log.
  static absl::StatusOr<EventLog> Open(const std::string& path, const Register& reg);

  // Truncates a torn tail (bytes after the last newline: a record whose write
  // never completed, so it was never extended or acknowledged) after checking
  // that every complete line replays. Never removes a complete record. A log
  // without a torn tail is left alone (bytes_removed == 0).
  static absl::StatusOr<RepairResult> Repair(const std::string& path, const Register& reg);

  EventLog(EventLog&&) = default;
  EventLog& operator=(EventLog&&) = default;

  // Validates `content` as the next record, writes its line and fsyncs the
  // file before returning. Only then may the caller extend the register with
  // the returned record's digest, and only after the extend acknowledge the
  // request. An I/O failure leaves the object refusing further appends
  // (reopen: the file is then replayed from what reached the disk).
  absl::StatusOr<CelRecord> Append(const CelContent& content);
  // Appends the epoch record for a TPM Reset/Restart (see the doc for when).
  absl::StatusOr<CelRecord> StartEpoch(uint32_t reset_count, uint32_t restart_count);

  // Compares a value read from the TPM (an unwritten NV index reads as
  // kRegisterResetValue) with the replay of the current epoch.
  Reconciliation ReconcileWith(const Sha256Digest& register_value) const;

  // The current epoch's records for serving: `for_launch_id`'s records and the
  // epoch record in full, every other launch's record redacted (digests only).
  // An empty launch id redacts every launch. NotFound if the launch has no
  // record in the current epoch.
  absl::StatusOr<std::vector<CelRecord>> Records(absl::string_view for_launch_id) const;
  // Every record of every epoch, in full (local use: tests, administration).
  const std::vector<CelRecord>& AllRecords() const { return records_; }

  const Register& reg() const { return replay_.reg(); }
  const Sha256Digest& expected_value() const { return replay_.value(); }
  const std::optional<Epoch>& current_epoch() const { return replay_.epoch(); }
  uint64_t size() const { return records_.size(); }
  const std::string& path() const { return path_; }

 private:
  EventLog(std::string path, UniqueFd fd, CelReplay replay, std::vector<CelRecord> records,
           uint64_t file_size)
      : path_(std::move(path)),
        fd_(std::move(fd)),
        replay_(std::move(replay)),
        records_(std::move(records)),
        file_size_(file_size) {}

  std::string path_;
  UniqueFd fd_;
  CelReplay replay_;
  std::vector<CelRecord> records_;
  uint64_t file_size_ = 0;
  absl::Status broken_;  // set after an I/O failure in Append
};

}  // namespace fdattest

#endif  // FDATTEST_ATTESTOR_EVENT_LOG_H_
