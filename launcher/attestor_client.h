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

  // The observed launch (docs/attestor.md, "An observed launch"), in order:
  // Hold hands the attestor `pid`, a child of this process that has not yet
  // exec'd the workload, and says whether the attestor observes it. Launch
  // sends the manifest's exact bytes and the nonce (0..64 raw bytes) once the
  // child has exec'd; the attestor observes it, checks the observation
  // against the manifest and measures both (a mismatch is FailedPrecondition
  // "observation refused: <field>: ..." and nothing is recorded). Every
  // record is acknowledged only after it was logged durably and extended.
  absl::StatusOr<HoldResponse> Hold(absl::string_view launch_id, int64_t pid);
  absl::StatusOr<LaunchResponse> Launch(absl::string_view launch_id, absl::string_view manifest,
                                        absl::string_view nonce);
  // Returns the separator's record number.
  absl::StatusOr<uint64_t> MeasureSeparator(absl::string_view launch_id);
  // Lets the held workload run its first instruction; from then on it is
  // the attestor's live launch, re-attestable until it exits.
  absl::Status Release(absl::string_view launch_id);
  // Re-observes a released, running workload on `nonce` (1..64 raw bytes):
  // gone, or alive and unchanged with the alive record's number.
  absl::StatusOr<ReattestResponse> Reattest(absl::string_view launch_id, absl::string_view nonce);
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
