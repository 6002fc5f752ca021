// The wire format of fdattestd's local API (docs/attestor.md), in one place
// for both ends: length-prefixed JSON frames (common/frame.h) over a unix
// stream socket, and one typed value per message. Serialize() writes a
// message's canonical JSON; Parse() reads one back strictly (unknown ops,
// unknown or missing keys, wrong types, bad hex or base64 are InvalidArgument
// naming the key), and Parse(Serialize(x)) == x. fdattestd parses requests and
// serialises responses with these types; fdlaunch's client does the reverse.
// Values and stateless functions (thread-safe); no TPM or file access.
#ifndef FDATTEST_COMMON_ATTESTOR_API_H_
#define FDATTEST_COMMON_ATTESTOR_API_H_

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "absl/strings/string_view.h"
#include "common/cel.h"
#include "common/frame.h"
#include "common/sha256.h"
#include "common/status.h"

namespace fdattest {

// TPMS_ATTEST.extraData holds at most 64 bytes (a TPMU_HA of the largest hash).
inline constexpr size_t kMaxQualifyingDataBytes = 64;
// The marshalled TPM2B_ID_OBJECT of a credential: a size, then an HMAC and
// the encrypted credential, each a TPM2B_DIGEST of at most 64 bytes.
inline constexpr size_t kMaxCredentialBlobBytes = 2 + 2 * (2 + 64);
// The marshalled TPM2B_ENCRYPTED_SECRET: a size and up to an RSA-4096
// ciphertext.
inline constexpr size_t kMaxEncryptedSecretBytes = 2 + 512;
// A credential is a TPM2B_DIGEST: at most 64 bytes.
inline constexpr size_t kMaxCredentialBytes = 64;

// Blocking frame I/O for clients, with an absolute deadline
// (DeadlineExceeded when it passes). ReadFrame returns FailedPrecondition
// "connection closed" when the peer closes between or inside frames.
using Deadline = std::chrono::steady_clock::time_point;
absl::Status WriteFrame(int fd, absl::string_view payload, Deadline deadline);
absl::StatusOr<std::string> ReadFrame(int fd, Deadline deadline);

// ---------------------------------------------------------------------------
// Requests.

// One request. A request carries its op's fields only; the factories check
// what Parse checks, and Serialize refuses a value Parse would refuse.
struct AttestorRequest {
  // The launch protocol (docs/attestor.md, "An observed launch"): hold the
  // launcher's child, let it exec, `launch` (observe it and measure the
  // manifest and the observation), measure the separator, certify, `release`.
  // `reattest` re-observes a released, running workload on a fresh nonce.
  enum class Op {
    kInfo, kMeasure, kCertify, kLog, kActivateCredential, kHold, kLaunch, kRelease, kReattest
  };
  Op op = Op::kInfo;
  // kMeasure: a launch_separator (a launch_manifest is measured only through
  // kLaunch, and launch_observation records only the attestor makes).
  std::optional<CelContent> content;
  std::string qualifying_data;        // kCertify: raw bytes, 1..64
  // kLog, kHold, kLaunch, kRelease, kReattest: 32 lowercase hex digits.
  std::string launch_id;
  // kHold: the pid of the process to hold: a child of the requesting peer
  // that has not yet exec'd the workload. 1..INT32_MAX.
  int64_t pid = 0;
  // kLaunch: the manifest's exact canonical bytes (base64 on the wire), at
  // most kMaxFrameBytes / 2. The attestor parses it (Manifest::Parse), takes
  // its digest itself and holds the held process against it.
  std::string manifest;
  // kLaunch: 0..64 raw bytes (base64 on the wire) the load observation is
  // bound to; kReattest: 1..64.
  std::string nonce;
  // kActivateCredential: raw bytes (base64 on the wire) of a marshalled
  // TPM2B_ID_OBJECT (1..kMaxCredentialBlobBytes) and TPM2B_ENCRYPTED_SECRET
  // (1..kMaxEncryptedSecretBytes); the attestor parses them exactly.
  std::string credential_blob;
  std::string encrypted_secret;

  static AttestorRequest Info();
  static absl::StatusOr<AttestorRequest> Measure(CelContent content);
  static absl::StatusOr<AttestorRequest> Certify(absl::string_view qualifying_data);
  static absl::StatusOr<AttestorRequest> Log(absl::string_view launch_id);
  static absl::StatusOr<AttestorRequest> ActivateCredential(absl::string_view credential_blob,
                                                            absl::string_view encrypted_secret);
  static absl::StatusOr<AttestorRequest> Hold(absl::string_view launch_id, int64_t pid);
  static absl::StatusOr<AttestorRequest> Launch(absl::string_view launch_id,
                                                absl::string_view manifest,
                                                absl::string_view nonce);
  static absl::StatusOr<AttestorRequest> Release(absl::string_view launch_id);
  static absl::StatusOr<AttestorRequest> Reattest(absl::string_view launch_id,
                                                  absl::string_view nonce);

  // Every failure is InvalidArgument with a message that names the offending key.
  static absl::StatusOr<AttestorRequest> Parse(absl::string_view payload);
  absl::StatusOr<std::string> Serialize() const;

  friend bool operator==(const AttestorRequest&, const AttestorRequest&) = default;
};

absl::string_view OpName(AttestorRequest::Op op);

// ---------------------------------------------------------------------------
// Responses. Every response carries "ok": true for the op's answer, false
// for an ErrorResponse. Byte strings are raw (hex or base64 on the wire).

// The answer to "info": the attestor's keys, its register and the TPM's
// clock-info counters now.
struct InfoResponse {
  std::string ak_public;          // marshalled TPM2B_PUBLIC (base64)
  std::string ak_name;            // TPM name of the AK (hex)
  std::string ak_qualified_name;  // what TPMS_ATTEST.qualifiedSigner holds (hex)
  std::string ek_public;          // marshalled TPM2B_PUBLIC (base64)
  std::string ek_certificate;     // DER (base64); empty when the TPM holds none
  Register reg;
  uint32_t reset_count = 0;
  uint32_t restart_count = 0;

  static absl::StatusOr<InfoResponse> Parse(absl::string_view payload);
  absl::StatusOr<std::string> Serialize() const;
  friend bool operator==(const InfoResponse&, const InfoResponse&) = default;
};

// The answer to "measure": the record number the attestor assigned.
struct MeasureResponse {
  uint64_t recnum = 0;  // at most INT64_MAX

  static absl::StatusOr<MeasureResponse> Parse(absl::string_view payload);
  absl::StatusOr<std::string> Serialize() const;
  friend bool operator==(const MeasureResponse&, const MeasureResponse&) = default;
};

// The answer to "certify": what the AK signed and the register value it covers.
struct CertifyResponse {
  std::string attest;     // TPMS_ATTEST bytes (base64)
  std::string signature;  // marshalled TPMT_SIGNATURE (base64)
  Sha256Digest register_value{};

  static absl::StatusOr<CertifyResponse> Parse(absl::string_view payload);
  absl::StatusOr<std::string> Serialize() const;
  friend bool operator==(const CertifyResponse&, const CertifyResponse&) = default;
};

// The answer to "log": the current epoch's records, the requested launch's
// and the epoch record in full, every other launch's redacted. Each record is
// checked as CelRecord::FromJson checks a served record; the log's rules
// (CelReplay) are the reader's to apply.
struct LogResponse {
  std::vector<CelRecord> records;

  static absl::StatusOr<LogResponse> Parse(absl::string_view payload);
  absl::StatusOr<std::string> Serialize() const;
  friend bool operator==(const LogResponse&, const LogResponse&) = default;
};

// The answer to "activate_credential": the credential the TPM released.
struct ActivateCredentialResponse {
  std::string credential;  // raw bytes (base64), 1..kMaxCredentialBytes

  static absl::StatusOr<ActivateCredentialResponse> Parse(absl::string_view payload);
  absl::StatusOr<std::string> Serialize() const;
  friend bool operator==(const ActivateCredentialResponse&,
                         const ActivateCredentialResponse&) = default;
};

// The answer to "hold": whether the attestor observes (false only when it
// runs with --allow-unobserved on a kernel it cannot read; the launch then
// goes on and its observation record says "not observed").
struct HoldResponse {
  bool observing = true;

  static absl::StatusOr<HoldResponse> Parse(absl::string_view payload);
  absl::StatusOr<std::string> Serialize() const;
  friend bool operator==(const HoldResponse&, const HoldResponse&) = default;
};

// The answer to "launch": the record numbers of the launch_manifest and of
// the load launch_observation, measured in that order.
struct LaunchResponse {
  uint64_t manifest_recnum = 0;     // at most INT64_MAX
  uint64_t observation_recnum = 0;  // manifest_recnum + 1

  static absl::StatusOr<LaunchResponse> Parse(absl::string_view payload);
  absl::StatusOr<std::string> Serialize() const;
  friend bool operator==(const LaunchResponse&, const LaunchResponse&) = default;
};

// The answer to "release": {"ok":true}; the workload runs.
struct ReleaseResponse {
  static absl::StatusOr<ReleaseResponse> Parse(absl::string_view payload);
  absl::StatusOr<std::string> Serialize() const;
  friend bool operator==(const ReleaseResponse&, const ReleaseResponse&) = default;
};

// The answer to "reattest": either the workload is gone (it exited; nothing
// was recorded), or it was observed alive and unchanged and an alive
// launch_observation bound to the nonce was measured as record `recnum`;
// `manifest` is then the launch's manifest bytes (base64 on the wire), for the
// evidence bundle.
struct ReattestResponse {
  bool gone = false;
  uint64_t recnum = 0;   // when !gone
  std::string manifest;  // when !gone

  static absl::StatusOr<ReattestResponse> Parse(absl::string_view payload);
  absl::StatusOr<std::string> Serialize() const;
  friend bool operator==(const ReattestResponse&, const ReattestResponse&) = default;
};

// {"ok":false,"error":{"code":C,"message":M}}. C is one of InvalidArgument,
// PermissionDenied, FailedPrecondition, DataLoss, Internal: the constructor
// folds other status codes into the nearest of these (NotFound, AlreadyExists
// and OutOfRange are FailedPrecondition; everything else Internal).
struct ErrorResponse {
  absl::StatusCode code = absl::StatusCode::kInternal;  // one of the five
  std::string message;

  ErrorResponse() = default;
  explicit ErrorResponse(const absl::Status& status);

  static absl::StatusOr<ErrorResponse> Parse(absl::string_view payload);
  absl::StatusOr<std::string> Serialize() const;
  friend bool operator==(const ErrorResponse&, const ErrorResponse&) = default;
};

absl::string_view ErrorCodeName(absl::StatusCode code);

using AttestorResponse =
    std::variant<InfoResponse, MeasureResponse, CertifyResponse, LogResponse,
                 ActivateCredentialResponse, HoldResponse, LaunchResponse, ReleaseResponse,
                 ReattestResponse, ErrorResponse>;

// The response to a request of `op`: that op's answer or an ErrorResponse,
// parsed strictly. InvalidArgument for anything else; a payload that is not
// JSON keeps the JSON reader's message ("malformed JSON ...").
absl::StatusOr<AttestorResponse> ParseResponse(AttestorRequest::Op op, absl::string_view payload);

// The canonical JSON of a response. A response that cannot be encoded or
// does not fit in one frame becomes an Internal/FailedPrecondition error
// response, so a response is always sent.
std::string SerializeResponse(const AttestorResponse& response);

}  // namespace fdattest

#endif  // FDATTEST_COMMON_ATTESTOR_API_H_
