// The TCG Canonical Event Log (CEL) records of the measurement register
// (common/register.h): CelContent, CelRecord and the strict replay CelReplay.
// Pure values with no file or TPM access, shared by the attestor (which writes
// the log) and the verifier (which replays what an attester served). Immutable values
// are safe to share between threads; a CelReplay is used by one thread.
// Format and replay rules: docs/formats/event-log.md.
#ifndef FDATTEST_COMMON_CEL_H_
#define FDATTEST_COMMON_CEL_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "common/json.h"
#include "common/observation.h"
#include "common/register.h"
#include "common/sha256.h"
#include "common/status.h"

namespace fdattest {

// ---------------------------------------------------------------------------
// The measurement register (common/register.h).

// The register's value after TPM2_Startup(CLEAR): a PCR, or an NV extend index
// that reads as unwritten, extends from 32 zero bytes.
inline constexpr Sha256Digest kRegisterResetValue{};

// The extend rule (TPM2_PCR_Extend / TPM2_NV_Extend, sha256 bank):
// new = SHA-256(old ‖ digest).
Sha256Digest ExtendRegister(const Sha256Digest& old_value, const Sha256Digest& digest);

// ---------------------------------------------------------------------------
// Records.

// The content_type of every record fdattest writes (docs/formats/event-log.md).
inline constexpr absl::string_view kCelContentType = "fdattest";

// What one record says. Constructed through the factories; the digest that is
// extended is a function of the content (Digest()).
struct CelContent {
  enum class Type { kEpoch, kLaunchManifest, kLaunchSeparator, kLaunchObservation };
  // kLaunchObservation: when the attestor read the workload.
  //   kLoad: after its exec, before its first instruction (between the
  //   launch's manifest and separator; exactly one per launch);
  //   kAlive: a re-attestation of the running workload (after the separator).
  enum class ObservationKind { kLoad, kAlive };

  Type type = Type::kEpoch;
  // kEpoch: the TPM's clock-info counters when the epoch began.
  uint32_t reset_count = 0;
  uint32_t restart_count = 0;
  // kLaunchManifest, kLaunchSeparator: 32 lowercase hex digits (manifest.md).
  std::string launch_id;
  // kLaunchManifest: sha256 of the manifest's exact (canonical JSON) bytes.
  Sha256Digest manifest_sha256{};
  // kLaunchObservation (docs/formats/event-log.md, "launch_observation"):
  ObservationKind observation_kind = ObservationKind::kLoad;
  // The nonce the observation is bound to (raw bytes, 0..64; hex on the
  // wire). kAlive: 1..64 bytes. kLoad: empty when the launch was given none.
  std::string nonce;
  // sha256 (hex) of the executable of the socket peer that asked for this
  // observation, hashed by the attestor from /proc (for kLoad: the launcher).
  std::string peer_exe_sha256;
  // What the kernel showed; nullopt only when the attestor runs without
  // observation (--allow-unobserved), and then `not_observed` says why.
  std::optional<KernelObservation> observation;
  std::string not_observed;

  static CelContent Epoch(uint32_t reset_count, uint32_t restart_count);
  // Hashes `manifest_bytes`; the manifest itself is never in the log.
  static absl::StatusOr<CelContent> LaunchManifest(absl::string_view launch_id,
                                                   absl::string_view manifest_bytes);
  static absl::StatusOr<CelContent> LaunchManifestDigest(absl::string_view launch_id,
                                                         const Sha256Digest& manifest_sha256);
  static absl::StatusOr<CelContent> LaunchSeparator(absl::string_view launch_id);
  // Exactly one of `observation` and a non-empty `not_observed`; nonce sizes
  // as above; `peer_exe_sha256` 64 lowercase hex.
  static absl::StatusOr<CelContent> LaunchObservation(absl::string_view launch_id,
                                                      ObservationKind kind,
                                                      absl::string_view nonce,
                                                      absl::string_view peer_exe_sha256,
                                                      std::optional<KernelObservation> observation,
                                                      absl::string_view not_observed);
  // Strict: unknown types and unknown or missing keys are errors.
  static absl::StatusOr<CelContent> FromJson(const JsonValue& json);

  Json ToJson() const;
  // The digest extended into the register: the manifest's sha256 for a launch
  // manifest, SHA-256 of the canonical JSON of this content otherwise.
  Sha256Digest Digest() const;
  // Launch records belong to a launch; epoch records to the host.
  bool BelongsToLaunch() const { return type != Type::kEpoch; }

  friend bool operator==(const CelContent&, const CelContent&) = default;
};

absl::string_view CelContentTypeName(CelContent::Type type);

// One CEL record: recnum, register, sha256 digest and content. A redacted
// record (another launch's, as served to a verifier) has no content.
struct CelRecord {
  uint64_t recnum = 0;
  Register reg;
  Sha256Digest digest{};
  std::optional<CelContent> content;  // nullopt iff redacted

  // A record whose digest is computed from `content`.
  static CelRecord Make(uint64_t recnum, const Register& reg, CelContent content);
  // Strict parse of one record. Checks the shape and, when content is present,
  // that the digest is the one the content defines. Redacted records are
  // accepted only with `allow_redacted` (served logs; never in the log file).
  static absl::StatusOr<CelRecord> FromJson(const JsonValue& json, bool allow_redacted);

  bool redacted() const { return !content.has_value(); }
  CelRecord Redacted() const;
  Json ToJson() const;
  std::string ToLine() const;  // canonical JSON, no trailing newline

  friend bool operator==(const CelRecord&, const CelRecord&) = default;
};

// ---------------------------------------------------------------------------
// Replay.

struct Epoch {
  uint32_t reset_count = 0;
  uint32_t restart_count = 0;
  uint64_t first_recnum = 0;  // the epoch record's recnum
};

// Replays records in order, enforcing the log's rules: recnums 0,1,2,...;
// the first record is an epoch record; one register for the whole log; every
// digest equals the one its content defines; one launch_manifest per launch
// id in the whole log; one load launch_observation per launch, after its
// manifest; a launch_separator only after its launch's load observation in
// the same epoch; after the separator nothing for the launch but alive
// observations, in the same epoch. Each epoch replays
// from kRegisterResetValue. Redacted records are extended unchecked (they are
// another launch's business). Errors are FailedPrecondition with the reason.
class CelReplay {
 public:
  // `first_recnum` is 0 for a whole log file; a verifier replaying the
  // current epoch as served starts at the epoch record's recnum.
  explicit CelReplay(Register reg, uint64_t first_recnum = 0)
      : reg_(reg), next_recnum_(first_recnum) {}

  // Whether `record` may come next; changes nothing.
  absl::Status Check(const CelRecord& record) const;
  // Check() and then apply.
  absl::Status Apply(const CelRecord& record);

  const Register& reg() const { return reg_; }
  uint64_t next_recnum() const { return next_recnum_; }
  // The value the register holds after every record so far (current epoch).
  const Sha256Digest& value() const { return value_; }
  // The value before the last record, when the last record is in the current
  // epoch (the "appended but not extended" candidate).
  const std::optional<Sha256Digest>& value_before_last() const { return value_before_last_; }
  const std::optional<Epoch>& epoch() const { return epoch_; }
  // Every epoch so far, oldest first.
  const std::vector<Epoch>& epochs() const { return epochs_; }

 private:
  struct Launch {
    size_t epoch_number;  // index into epochs_
    uint64_t manifest_recnum;
    std::optional<uint64_t> observation_recnum;  // the load observation
    std::optional<uint64_t> separator_recnum;
  };

  Register reg_;
  uint64_t next_recnum_;
  Sha256Digest value_ = kRegisterResetValue;
  std::optional<Sha256Digest> value_before_last_;
  std::optional<Epoch> epoch_;
  std::vector<Epoch> epochs_;
  std::map<std::string, Launch, std::less<>> launches_;
};

}  // namespace fdattest

#endif  // FDATTEST_COMMON_CEL_H_
