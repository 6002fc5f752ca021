// The launcher's side of fdattestd's local API: one unix-socket connection,
// messages in the frames of common/frame.h, a deadline on every call, and strict parsing of every response (unknown or
// missing keys, wrong types, bad hex or base64 are errors). Every error
// message starts with "attestor: ". Uses only common/ and libc, so fdlaunch
// stays statically linked. Not thread-safe; fdlaunch uses one client from its
// one thread between the manifest and the point of no return.
#ifndef FDATTEST_LAUNCHER_ATTESTOR_CLIENT_H_
#define FDATTEST_LAUNCHER_ATTESTOR_CLIENT_H_

#include <chrono>
#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"
#include "common/json.h"
#include "common/sha256.h"
#include "common/status.h"
#include "common/unique_fd.h"

namespace fdattest {

// The "info" response, decoded. Byte strings are raw (decoded from base64 or hex).
struct AttestorInfo {
  std::string ak_public;          // marshalled TPM2B_PUBLIC
  std::string ak_name;            // TPM name of the AK
  std::string ak_qualified_name;  // what TPMS_ATTEST.qualifiedSigner holds
  std::string ek_public;          // marshalled TPM2B_PUBLIC
  std::string ek_certificate;     // DER
  // {"kind":"nv","nv_index":N} or {"bank":"sha256","kind":"pcr","pcr":N}, as served.
  Json register_description;
  uint32_t reset_count = 0;
  uint32_t restart_count = 0;
};

// The "certify" response: what the AK signed and the register value it covers.
struct AttestorCertification {
  std::string attest;     // TPMS_ATTEST bytes
  std::string signature;  // marshalled TPMT_SIGNATURE
  Sha256Digest register_value{};
};

class AttestorClient {
 public:
  // Per call (connect included): a request waits behind every other client's,
  // because the attestor serves one request at a time.
  static constexpr std::chrono::milliseconds kDefaultTimeout{10000};

  // Connects (close-on-exec) to the attestor's socket.
  static absl::StatusOr<AttestorClient> Connect(const std::string& socket_path,
                                                std::chrono::milliseconds timeout = kDefaultTimeout);

  AttestorClient(AttestorClient&&) = default;
  AttestorClient& operator=(AttestorClient&&) = default;

  absl::StatusOr<AttestorInfo> Info();
  // Both return the record number the attestor assigned; each is acknowledged
  // only after the record was logged durably and extended into the register.
  absl::StatusOr<uint64_t> MeasureManifest(absl::string_view launch_id,
                                           const Sha256Digest& manifest_sha256);
  absl::StatusOr<uint64_t> MeasureSeparator(absl::string_view launch_id);
  // `qualifying_data`: 1..64 raw bytes, copied by the TPM into extraData.
  absl::StatusOr<AttestorCertification> Certify(absl::string_view qualifying_data);
  // The current epoch's records: `launch_id`'s and the epoch record in full,
  // others redacted. Each record's shape is checked (docs/formats/event-log.md);
  // the array is returned as served.
  absl::StatusOr<Json> Log(absl::string_view launch_id);

 private:
  AttestorClient(UniqueFd fd, std::chrono::milliseconds timeout)
      : fd_(std::move(fd)), timeout_(timeout) {}

  // Sends one request and returns the parsed response of an "ok":true answer
  // (without the "ok" key); an "ok":false answer becomes its error.
  absl::StatusOr<Json> Call(const Json& request);

  UniqueFd fd_;
  std::chrono::milliseconds timeout_;
};

// Strict checks shared with the evidence builder: exactly `bytes` bytes of
// lowercase hex (any even, non-zero length when `bytes` is 0).
absl::StatusOr<std::string> DecodeLowerHex(absl::string_view hex, size_t bytes,
                                           absl::string_view what);
// One CEL record as the attestor serves it (shape only; see event-log.md).
absl::Status CheckServedRecord(const Json& record, absl::string_view where);

}  // namespace fdattest

#endif  // FDATTEST_LAUNCHER_ATTESTOR_CLIENT_H_
