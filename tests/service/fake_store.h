// An in-memory Store (verifier/store.h) for fdverifierd's handler tests and
// for the test build of the daemon the service's integration test runs:
// every method under one mutex, durable only for the process's life, and an
// injectable failure (every call answers it while set). Not for production.
// Thread-safe.
#ifndef FDATTEST_TESTS_SERVICE_FAKE_STORE_H_
#define FDATTEST_TESTS_SERVICE_FAKE_STORE_H_

#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "verifier/store.h"

namespace fdattest::testing {

class ServiceFakeStore : public Store {
 public:
  // While set (not OK), every call fails with it.
  void SetFailure(absl::Status failure);

  absl::Status AddPendingAttester(const AttesterRecord& record, bool replace_active) override;
  absl::Status ActivateAttester(absl::string_view id, absl::string_view credential_sha256,
                                int64_t now) override;
  absl::Status RevokeAttester(absl::string_view id, int64_t now) override;
  absl::StatusOr<AttesterRecord> GetAttester(absl::string_view id) override;
  absl::StatusOr<AttesterRecord> FindAttesterByAkName(absl::string_view ak_name) override;
  absl::Status RecordCounters(absl::string_view attester_id, const TpmCounters& counters) override;
  absl::Status AddNonce(absl::string_view nonce, int64_t expires_at) override;
  absl::Status ConsumeNonce(absl::string_view nonce, int64_t now) override;
  absl::StatusOr<int64_t> CountNonces(int64_t now) override;
  absl::Status PurgeNonces(int64_t now) override;
  absl::StatusOr<PolicyRecord> PutPolicy(absl::string_view id, absl::string_view text,
                                         int64_t now) override;
  absl::StatusOr<PolicyRecord> GetPolicy(absl::string_view id,
                                         std::optional<int64_t> version = {}) override;
  absl::Status PutSecret(const SecretRecord& record) override;
  absl::StatusOr<SecretRecord> GetSecret(absl::string_view name) override;
  absl::Status PutResult(const ResultRecord& record) override;
  absl::StatusOr<ResultRecord> GetResult(absl::string_view id) override;

 private:
  struct Nonce {
    int64_t expires_at = 0;
    bool used = false;
  };
  std::mutex mu_;
  absl::Status failure_;
  std::map<std::string, AttesterRecord, std::less<>> attesters_;
  std::map<std::string, Nonce, std::less<>> nonces_;
  std::map<std::string, std::vector<PolicyRecord>, std::less<>> policies_;
  std::map<std::string, SecretRecord, std::less<>> secrets_;
  std::map<std::string, ResultRecord, std::less<>> results_;
};

}  // namespace fdattest::testing

#endif  // FDATTEST_TESTS_SERVICE_FAKE_STORE_H_
