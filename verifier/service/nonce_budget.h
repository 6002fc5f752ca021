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

}  // namespace fdattest

#endif  // FDATTEST_VERIFIER_SERVICE_NONCE_BUDGET_H_
