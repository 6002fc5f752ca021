#include "tests/service/fake_store.h"

#include <utility>

#include "common/sha256.h"

namespace fdattest::testing {

#define FAKE_STORE_CHECK()                   \
  std::lock_guard<std::mutex> lock(mu_);     \
  if (!failure_.ok()) return failure_

void ServiceFakeStore::SetFailure(absl::Status failure) {
  std::lock_guard<std::mutex> lock(mu_);
  failure_ = std::move(failure);
}

absl::Status ServiceFakeStore::AddPendingAttester(const AttesterRecord& record,
                                                  bool replace_active) {
  FAKE_STORE_CHECK();
  for (auto& [id, a] : attesters_) {
    if (a.ak_name == record.ak_name) return absl::AlreadyExistsError("AK already enrolled");
    if (a.ek_sha256 == record.ek_sha256 && a.state == AttesterState::kActive) {
      if (!replace_active) return absl::AlreadyExistsError("EK has an active attester");
      a.state = AttesterState::kRevoked;
      a.revoked_at = record.created_at;
    }
  }
  attesters_[record.id] = record;
  return absl::OkStatus();
}

absl::Status ServiceFakeStore::ActivateAttester(absl::string_view id,
                                                absl::string_view credential_sha256, int64_t now) {
  FAKE_STORE_CHECK();
  auto it = attesters_.find(id);
  if (it == attesters_.end()) return absl::NotFoundError("no attester");
  if (it->second.state != AttesterState::kPending) return absl::FailedPreconditionError("not pending");
  if (it->second.credential_sha256 != credential_sha256) {
    it->second.state = AttesterState::kRevoked;
    return absl::PermissionDeniedError("wrong credential");
  }
  it->second.state = AttesterState::kActive;
  it->second.activated_at = now;
  it->second.credential_sha256.clear();
  return absl::OkStatus();
}

absl::Status ServiceFakeStore::RevokeAttester(absl::string_view id, int64_t now) {
  FAKE_STORE_CHECK();
  auto it = attesters_.find(id);
  if (it == attesters_.end()) return absl::NotFoundError("no attester");
  if (it->second.state != AttesterState::kRevoked) {
    it->second.state = AttesterState::kRevoked;
    it->second.revoked_at = now;
  }
  return absl::OkStatus();
}

absl::StatusOr<AttesterRecord> ServiceFakeStore::GetAttester(absl::string_view id) {
  FAKE_STORE_CHECK();
  auto it = attesters_.find(id);
  if (it == attesters_.end()) return absl::NotFoundError("no attester");
  return it->second;
}

absl::StatusOr<AttesterRecord> ServiceFakeStore::FindAttesterByAkName(absl::string_view ak_name) {
  FAKE_STORE_CHECK();
  for (const auto& [id, a] : attesters_) {
    if (a.ak_name == ak_name) return a;
  }
  return absl::NotFoundError("no attester with this AK");
}

absl::Status ServiceFakeStore::RecordCounters(absl::string_view attester_id,
                                              const TpmCounters& counters) {
  FAKE_STORE_CHECK();
  auto it = attesters_.find(attester_id);
  if (it == attesters_.end()) return absl::NotFoundError("no attester");
  it->second.counters = counters;
  return absl::OkStatus();
}

absl::Status ServiceFakeStore::AddNonce(absl::string_view nonce, int64_t expires_at) {
  FAKE_STORE_CHECK();
  if (!nonces_.emplace(std::string(nonce), Nonce{expires_at, false}).second) {
    return absl::AlreadyExistsError("nonce exists");
  }
  return absl::OkStatus();
}

absl::Status ServiceFakeStore::ConsumeNonce(absl::string_view nonce, int64_t now) {
  FAKE_STORE_CHECK();
  auto it = nonces_.find(nonce);
  if (it == nonces_.end()) return absl::PermissionDeniedError("never issued");
  if (it->second.used) return absl::PermissionDeniedError("already used");
  if (it->second.expires_at <= now) return absl::PermissionDeniedError("expired");
  it->second.used = true;
  return absl::OkStatus();
}

absl::StatusOr<int64_t> ServiceFakeStore::CountNonces(int64_t now) {
  FAKE_STORE_CHECK();
  int64_t n = 0;
  for (const auto& [k, v] : nonces_) n += !v.used && v.expires_at > now;
  return n;
}

absl::Status ServiceFakeStore::PurgeNonces(int64_t now) {
  FAKE_STORE_CHECK();
  std::erase_if(nonces_, [&](const auto& kv) { return kv.second.expires_at < now; });
  return absl::OkStatus();
}

absl::StatusOr<PolicyRecord> ServiceFakeStore::PutPolicy(absl::string_view id,
                                                         absl::string_view text, int64_t now) {
  FAKE_STORE_CHECK();
  std::vector<PolicyRecord>& versions = policies_[std::string(id)];
  PolicyRecord record{std::string(id), static_cast<int64_t>(versions.size()) + 1,
                      std::string(text), HexEncode(Sha256(text)), now};
  versions.push_back(record);
  return record;
}

absl::StatusOr<PolicyRecord> ServiceFakeStore::GetPolicy(absl::string_view id,
                                                         std::optional<int64_t> version) {
  FAKE_STORE_CHECK();
  auto it = policies_.find(id);
  if (it == policies_.end() || it->second.empty()) return absl::NotFoundError("no policy");
  if (!version) return it->second.back();
  if (*version < 1 || *version > static_cast<int64_t>(it->second.size())) {
    return absl::NotFoundError("no such version");
  }
  return it->second[static_cast<size_t>(*version - 1)];
}

absl::Status ServiceFakeStore::PutSecret(const SecretRecord& record) {
  FAKE_STORE_CHECK();
  secrets_[record.name] = record;
  return absl::OkStatus();
}

absl::StatusOr<SecretRecord> ServiceFakeStore::GetSecret(absl::string_view name) {
  FAKE_STORE_CHECK();
  auto it = secrets_.find(name);
  if (it == secrets_.end()) return absl::NotFoundError("no secret");
  return it->second;
}

absl::Status ServiceFakeStore::PutResult(const ResultRecord& record) {
  FAKE_STORE_CHECK();
  if (!results_.emplace(record.id, record).second) return absl::AlreadyExistsError("result exists");
  return absl::OkStatus();
}

absl::StatusOr<ResultRecord> ServiceFakeStore::GetResult(absl::string_view id) {
  FAKE_STORE_CHECK();
  auto it = results_.find(id);
  if (it == results_.end()) return absl::NotFoundError("no result");
  return it->second;
}

}  // namespace fdattest::testing
