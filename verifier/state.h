// The offline verifier's state file (docs/verifier-cli.md): nonces it issued
// (single use, with an expiry) and, per attester (AK qualified name), the
// last TPM counters it saw signed — so a replayed or rolled-back attestation
// is refused. One JSON file, rewritten atomically; every Open() holds an
// exclusive lock on a companion `.lock` file until the object dies, so two
// `fdattest` processes never interleave a read-modify-write. Not thread-safe.
#ifndef FDATTEST_VERIFIER_STATE_H_
#define FDATTEST_VERIFIER_STATE_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "absl/strings/string_view.h"
#include "common/status.h"
#include "common/unique_fd.h"
#include "verifier/tpm_attest.h"

namespace fdattest {

inline constexpr int64_t kDefaultNonceLifetimeSeconds = 300;
inline constexpr size_t kMaxOutstandingNonces = 100000;

class VerifierState {
 public:
  // Opens (creating, mode 0600) the state at `path` and locks it. A damaged
  // file is an error (DataLoss), never silently replaced.
  static absl::StatusOr<VerifierState> Open(const std::string& path);

  VerifierState(VerifierState&&) = default;
  VerifierState& operator=(VerifierState&&) = default;

  // A fresh 32-byte nonce, recorded with its expiry (now + lifetime).
  absl::StatusOr<std::string> IssueNonce(int64_t now, int64_t lifetime_seconds);
  // Consumes `nonce` if this verifier issued it and it has not expired or been
  // used; otherwise PermissionDenied saying which. Consumed either way when
  // found: a nonce is good for one attempt.
  absl::Status ConsumeNonce(absl::string_view nonce, int64_t now);

  std::optional<TpmCounters> Counters(absl::string_view ak_name_hex) const;
  void RecordCounters(absl::string_view ak_name_hex, const TpmCounters& counters);

  // Writes the state atomically (expired nonces dropped).
  absl::Status Save(int64_t now);

 private:
  struct NonceEntry {
    int64_t expires_at = 0;
  };
  VerifierState(std::string path, UniqueFd lock) : path_(std::move(path)), lock_(std::move(lock)) {}

  std::string path_;
  UniqueFd lock_;
  std::map<std::string, NonceEntry, std::less<>> nonces_;       // hex -> entry
  std::map<std::string, TpmCounters, std::less<>> attesters_;  // AK qualified name hex -> counters
};

}  // namespace fdattest

#endif  // FDATTEST_VERIFIER_STATE_H_
