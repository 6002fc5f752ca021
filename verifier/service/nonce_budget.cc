#include "verifier/service/nonce_budget.h"

#include "absl/strings/str_cat.h"

namespace fdattest {

absl::StatusOr<int64_t> NonceBudget::Outstanding(int64_t now) {
  if (refreshed_at_.load() != now) {
    // One thread counts; the others go on with the current figure.
    std::unique_lock<std::mutex> lock(refresh_mu_, std::try_to_lock);
    if (lock.owns_lock() && refreshed_at_.load() != now) {
      absl::StatusOr<int64_t> counted = store_->CountNonces(now);
      if (!counted.ok()) return counted.status();
      count_.store(*counted);
      refreshed_at_.store(now);
    } else if (refreshed_at_.load() < 0) {
      return absl::UnavailableError("the nonce count is being read");
    }
  }
  return count_.load();
}

absl::Status NonceBudget::Admit(int64_t now) {
  ASSIGN_OR_RETURN(int64_t outstanding, Outstanding(now));
  (void)outstanding;
  int64_t current = count_.load();
  do {
    if (current >= max_) {
      return absl::ResourceExhaustedError(
          absl::StrCat("the verifier holds ", max_, " outstanding nonces; retry later"));
    }
  } while (!count_.compare_exchange_weak(current, current + 1));
  return absl::OkStatus();
}

bool NonceClaims::Claim(absl::string_view nonce) {
  std::lock_guard<std::mutex> lock(mu_);
  return held_.emplace(nonce).second;
}

void NonceClaims::Release(absl::string_view nonce) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = held_.find(nonce);
  if (it != held_.end()) held_.erase(it);
}

}  // namespace fdattest
