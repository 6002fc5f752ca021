// Nonces in this process: NonceBudget caps how many are outstanding;
// NonceClaims keeps two attestations from using one nonce at once.
//
// The cap on outstanding nonces (issued, neither used nor expired), which
// keeps /v1/challenge from filling the store: over it, a challenge is
// answered 429. The count is the store's (Store::CountNonces), read at most
// once a second, and kept current in between by the issues and consumptions
// this process makes; it may briefly run above the cap by the challenges of
// one second's refresh race, never unboundedly. Thread-safe.
#ifndef FDATTEST_VERIFIER_SERVICE_NONCE_BUDGET_H_
#define FDATTEST_VERIFIER_SERVICE_NONCE_BUDGET_H_

#include <atomic>
#include <cstdint>
#include <mutex>
#include <set>
#include <string>

#include "common/status.h"
#include "verifier/store.h"

namespace fdattest {

class NonceBudget {
 public:
  NonceBudget(Store* store, int64_t max_outstanding) : store_(store), max_(max_outstanding) {}
  NonceBudget(const NonceBudget&) = delete;
  NonceBudget& operator=(const NonceBudget&) = delete;

  // Admits one more nonce (counting it): ResourceExhausted at the cap, or
  // the store's error when it cannot be counted.
  absl::Status Admit(int64_t now);
  // The admitted nonce was not stored after all.
  void Return() { count_.fetch_sub(1); }
  // A nonce was consumed.
  void Consumed() { count_.fetch_sub(1); }
  // The outstanding count (refreshed as above).
  absl::StatusOr<int64_t> Outstanding(int64_t now);
  int64_t max() const { return max_; }

 private:
  Store* store_;
  const int64_t max_;
  std::mutex refresh_mu_;
  std::atomic<int64_t> count_{0};
  std::atomic<int64_t> refreshed_at_{-1};  // unix second of the last count
};

// The nonces whose attestations are being verified in this process. An
// attestation claims its nonce when the pipeline reaches the nonce step and
// holds it until its result is committed (Store::CommitAttestation consumes
// the nonce in the same transaction as the result) or dropped; a second
// attestation of the same nonce meanwhile is refused as a replay. Across
// processes the store's consumption is the arbiter. Thread-safe.
class NonceClaims {
 public:
  NonceClaims() = default;
  NonceClaims(const NonceClaims&) = delete;
  NonceClaims& operator=(const NonceClaims&) = delete;

  // False when another attestation holds `nonce`.
  bool Claim(absl::string_view nonce);
  void Release(absl::string_view nonce);

 private:
  std::mutex mu_;
  std::set<std::string, std::less<>> held_;  // guarded by mu_
};

}  // namespace fdattest

#endif  // FDATTEST_VERIFIER_SERVICE_NONCE_BUDGET_H_
