// The launcher's side of fdattestd's local API: one unix-socket connection,
// messages in the frames of common/frame.h, a deadline on every call.
// Requests are written and responses parsed (strictly: unknown or missing
// keys, wrong types, bad hex or base64 are errors) with the API's own types,
// common/attestor_api.h. Every error message starts with "attestor: ". Uses
// only common/ and libc, so fdlaunch stays statically linked. Not
// thread-safe; fdlaunch uses one client from its one thread between the
// manifest and the point of no return.
#ifndef FDATTEST_LAUNCHER_ATTESTOR_CLIENT_H_
#define FDATTEST_LAUNCHER_ATTESTOR_CLIENT_H_

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "common/attestor_api.h"
#include "common/cel.h"
#include "common/sha256.h"
#include "common/status.h"
#include "common/unique_fd.h"

namespace fdattest {

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

  absl::StatusOr<InfoResponse> Info();
  // Both return the record number the attestor assigned; each is acknowledged
  // only after the record was logged durably and extended into the register.
  absl::StatusOr<uint64_t> MeasureManifest(absl::string_view launch_id,
                                           const Sha256Digest& manifest_sha256);
  absl::StatusOr<uint64_t> MeasureSeparator(absl::string_view launch_id);
  // `qualifying_data`: 1..64 raw bytes, copied by the TPM into extraData.
  absl::StatusOr<CertifyResponse> Certify(absl::string_view qualifying_data);
  // The current epoch's records: `launch_id`'s and the epoch record in full,
  // others redacted, each parsed as CelRecord::FromJson parses a served record
  // (docs/formats/event-log.md); in the order served, not yet replayed.
  absl::StatusOr<std::vector<CelRecord>> Log(absl::string_view launch_id);
  // The credential the attestor's TPM releases for a verifier's
  // MakeCredential (enrollment, docs/attestor.md): `credential_blob` and
  // `encrypted_secret` are the marshalled TPM2B_ID_OBJECT and
  // TPM2B_ENCRYPTED_SECRET as the verifier sent them.
  absl::StatusOr<std::string> ActivateCredential(absl::string_view credential_blob,
                                                 absl::string_view encrypted_secret);

 private:
  AttestorClient(UniqueFd fd, std::chrono::milliseconds timeout)
      : fd_(std::move(fd)), timeout_(timeout) {}

  // Sends one request and returns its op's answer (T); an error response
  // becomes its error.
  template <typename T>
  absl::StatusOr<T> Call(const absl::StatusOr<AttestorRequest>& request);

  UniqueFd fd_;
  std::chrono::milliseconds timeout_;
};

}  // namespace fdattest

#endif  // FDATTEST_LAUNCHER_ATTESTOR_CLIENT_H_
