#include "verifier/testing/memory_store.h"

#include <openssl/crypto.h>

#include <algorithm>
#include <tuple>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/sha256.h"
#include "verifier/internal/audit_log.h"

namespace fdattest {
namespace {

bool SameSecretDigest(absl::string_view a, absl::string_view b) {
  return !a.empty() && a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

bool EverActivated(const AttesterRecord& r) {
  return r.state == AttesterState::kActive ||
         (r.state == AttesterState::kRevoked && r.activated_at != 0);
}

auto CounterOrder(const TpmCounters& c) {
  return std::make_tuple(c.reset_count, c.restart_count, c.clock);
}

}  // namespace

void MemoryStore::InjectError(absl::Status status) {
  std::lock_guard<std::mutex> lock(mu_);
  injected_ = std::move(status);
}

#define FDATTEST_MEMORY_STORE_LOCK()        \
  std::lock_guard<std::mutex> lock(mu_); \
  if (!injected_.ok()) return injected_

const AttesterRecord* MemoryStore::BlockingAkLocked(absl::string_view ak_name) const {
  for (const AttesterRecord& r : attesters_) {
    if (r.ak_name == ak_name && EverActivated(r)) return &r;
  }
  return nullptr;
}

const AttesterRecord* MemoryStore::ActiveForEkLocked(absl::string_view ek_sha256,
                                                     absl::string_view except_id) const {
  for (const AttesterRecord& r : attesters_) {
    if (r.ek_sha256 == ek_sha256 && r.state == AttesterState::kActive && r.id != except_id) {
      return &r;
    }
  }
  return nullptr;
}

absl::Status MemoryStore::AddPendingAttester(const AttesterRecord& record, bool replace_active) {
  FDATTEST_MEMORY_STORE_LOCK();
  if (record.id.empty() || record.ek_sha256.empty() || record.ak_name.empty() ||
      record.credential_sha256.empty() || record.state != AttesterState::kPending) {
    return absl::InvalidArgumentError(
        "a new attester needs an id, an EK, an AK name and a credential, and is pending");
  }
  RETURN_IF_ERROR(CheckTenantId(record.tenant));
  for (const AttesterRecord& r : attesters_) {
    if (r.id == record.id) {
      return absl::AlreadyExistsError(absl::StrCat("attester ", record.id, " exists"));
    }
  }
  if (const AttesterRecord* ak = BlockingAkLocked(record.ak_name)) {
    return absl::AlreadyExistsError(
        absl::StrCat("the AK ", record.ak_name, " is already enrolled (attester ", ak->id, ", ",
                     AttesterStateName(ak->state), ")"));
  }
  if (const AttesterRecord* active = ActiveForEkLocked(record.ek_sha256, "")) {
    if (!replace_active) {
      return absl::AlreadyExistsError(absl::StrCat("the EK ", record.ek_sha256,
                                                   " has an active attester (", active->id, ")"));
    }
    for (AttesterRecord& r : attesters_) {
      if (r.id == active->id) {
        r.state = AttesterState::kRevoked;
        r.revoked_at = record.created_at;
        break;
      }
    }
  }
  attesters_.push_back(record);
  return absl::OkStatus();
}

absl::Status MemoryStore::ActivateAttester(absl::string_view id,
                                           absl::string_view credential_sha256, int64_t now) {
  FDATTEST_MEMORY_STORE_LOCK();
  for (AttesterRecord& r : attesters_) {
    if (r.id != id) continue;
    if (r.state != AttesterState::kPending) {
      return absl::FailedPreconditionError(
          absl::StrCat("attester ", id, " is ", AttesterStateName(r.state), ", not pending"));
    }
    if (!SameSecretDigest(r.credential_sha256, credential_sha256)) {
      // One answer per credential: a wrong one ends the enrollment.
      r.state = AttesterState::kRevoked;
      r.revoked_at = now;
      r.credential_sha256.clear();
      return absl::PermissionDeniedError(
          absl::StrCat("wrong credential for attester ", id, "; the enrollment is void"));
    }
    if (const AttesterRecord* active = ActiveForEkLocked(r.ek_sha256, r.id)) {
      return absl::AlreadyExistsError(
          absl::StrCat("the EK ", r.ek_sha256, " became active meanwhile (", active->id, ")"));
    }
    r.state = AttesterState::kActive;
    r.activated_at = now;
    r.credential_sha256.clear();
    return absl::OkStatus();
  }
  return absl::NotFoundError(absl::StrCat("no attester ", id));
}

absl::Status MemoryStore::RevokeAttester(absl::string_view id, int64_t now) {
  FDATTEST_MEMORY_STORE_LOCK();
  for (AttesterRecord& r : attesters_) {
    if (r.id != id) continue;
    if (r.state != AttesterState::kRevoked) {
      r.state = AttesterState::kRevoked;
      r.revoked_at = now;
      r.credential_sha256.clear();
    }
    return absl::OkStatus();
  }
  return absl::NotFoundError(absl::StrCat("no attester ", id));
}

absl::StatusOr<AttesterRecord> MemoryStore::GetAttester(absl::string_view id) {
  FDATTEST_MEMORY_STORE_LOCK();
  for (const AttesterRecord& r : attesters_) {
    if (r.id == id) return r;
  }
  return absl::NotFoundError(absl::StrCat("no attester ", id));
}

absl::StatusOr<AttesterRecord> MemoryStore::FindAttesterByAkName(absl::string_view ak_name) {
  FDATTEST_MEMORY_STORE_LOCK();
  if (const AttesterRecord* r = BlockingAkLocked(ak_name)) return *r;
  for (auto it = attesters_.rbegin(); it != attesters_.rend(); ++it) {
    if (it->ak_name == ak_name) return *it;
  }
  return absl::NotFoundError(absl::StrCat("no attester with AK ", ak_name));
}

absl::Status MemoryStore::RecordCounters(absl::string_view attester_id,
                                         const TpmCounters& counters) {
  FDATTEST_MEMORY_STORE_LOCK();
  for (AttesterRecord& r : attesters_) {
    if (r.id != attester_id) continue;
    if (!r.counters.has_value() || CounterOrder(counters) > CounterOrder(*r.counters)) {
      r.counters = counters;
    }
    return absl::OkStatus();
  }
  return absl::NotFoundError(absl::StrCat("no attester ", attester_id));
}

absl::Status MemoryStore::AddNonce(absl::string_view nonce, int64_t expires_at) {
  FDATTEST_MEMORY_STORE_LOCK();
  if (nonce.empty()) return absl::InvalidArgumentError("empty nonce");
  if (!nonces_.emplace(std::string(nonce), Nonce{.expires_at = expires_at}).second) {
    return absl::AlreadyExistsError("nonce issued before");
  }
  return absl::OkStatus();
}

absl::Status MemoryStore::ConsumeNonce(absl::string_view nonce, int64_t now) {
  FDATTEST_MEMORY_STORE_LOCK();
  auto it = nonces_.find(nonce);
  if (it == nonces_.end()) return absl::PermissionDeniedError("nonce never issued");
  if (it->second.used) return absl::PermissionDeniedError("nonce already used");
  if (it->second.expires_at <= now) return absl::PermissionDeniedError("nonce expired");
  it->second.used = true;
  return absl::OkStatus();
}

absl::StatusOr<int64_t> MemoryStore::CheckNonce(absl::string_view nonce, int64_t now) {
  FDATTEST_MEMORY_STORE_LOCK();
  auto it = nonces_.find(nonce);
  if (it == nonces_.end()) return absl::PermissionDeniedError("nonce never issued");
  if (it->second.used) return absl::PermissionDeniedError("nonce already used");
  if (it->second.expires_at <= now) return absl::PermissionDeniedError("nonce expired");
  return it->second.expires_at;
}

absl::StatusOr<int64_t> MemoryStore::CountNonces(int64_t now) {
  FDATTEST_MEMORY_STORE_LOCK();
  int64_t n = 0;
  for (const auto& [nonce, state] : nonces_) {
    if (!state.used && state.expires_at > now) ++n;
  }
  return n;
}

absl::Status MemoryStore::PurgeNonces(int64_t now) {
  FDATTEST_MEMORY_STORE_LOCK();
  std::erase_if(nonces_, [now](const auto& entry) { return entry.second.expires_at <= now; });
  return absl::OkStatus();
}

absl::StatusOr<PolicyRecord> MemoryStore::PutPolicy(absl::string_view id, absl::string_view text,
                                                    int64_t now) {
  FDATTEST_MEMORY_STORE_LOCK();
  if (id.empty()) return absl::InvalidArgumentError("empty policy id");
  std::vector<PolicyRecord>& versions = policies_[std::string(id)];
  PolicyRecord record{.id = std::string(id),
                      .version = static_cast<int64_t>(versions.size()) + 1,
                      .text = std::string(text),
                      .sha256 = HexEncode(Sha256(text)),
                      .created_at = now};
  versions.push_back(record);
  return record;
}

absl::StatusOr<PolicyRecord> MemoryStore::GetPolicy(absl::string_view id,
                                                    std::optional<int64_t> version) {
  FDATTEST_MEMORY_STORE_LOCK();
  auto it = policies_.find(id);
  if (it == policies_.end() || it->second.empty()) {
    return absl::NotFoundError(absl::StrCat("no policy ", id));
  }
  if (!version.has_value()) return it->second.back();
  if (*version < 1 || *version > static_cast<int64_t>(it->second.size())) {
    return absl::NotFoundError(absl::StrCat("policy ", id, " has no version ", *version));
  }
  return it->second[static_cast<size_t>(*version - 1)];
}

absl::Status MemoryStore::PutSecret(const SecretRecord& record) {
  FDATTEST_MEMORY_STORE_LOCK();
  if (record.name.empty()) return absl::InvalidArgumentError("empty secret name");
  secrets_[record.name] = record;
  return absl::OkStatus();
}

absl::StatusOr<SecretRecord> MemoryStore::GetSecret(absl::string_view name) {
  FDATTEST_MEMORY_STORE_LOCK();
  auto it = secrets_.find(name);
  if (it == secrets_.end()) return absl::NotFoundError(absl::StrCat("no secret ", name));
  return it->second;
}

absl::Status MemoryStore::PutResult(const ResultRecord& record) {
  FDATTEST_MEMORY_STORE_LOCK();
  if (record.id.empty()) return absl::InvalidArgumentError("empty result id");
  if (!results_.emplace(record.id, record).second) {
    return absl::AlreadyExistsError(absl::StrCat("result ", record.id, " exists"));
  }
  return absl::OkStatus();
}

absl::Status MemoryStore::CommitAttestation(const AttestationCommit& commit,
                                            AuditReceipt* receipt) {
  FDATTEST_MEMORY_STORE_LOCK();
  // Every check first, so a refusal changes nothing.
  const ResultRecord& record = commit.result;
  if (record.id.empty()) return absl::InvalidArgumentError("empty result id");
  int64_t leaf_time = 0;
  if (commit.audit) {
    if (signer_ == nullptr) return absl::FailedPreconditionError("the store has no log signer");
    ASSIGN_OR_RETURN(AuditLeaf leaf, internal::CheckAuditCommit(commit));
    leaf_time = leaf.time;
  }
  if (results_.contains(record.id)) {
    return absl::AlreadyExistsError(absl::StrCat("result ", record.id, " exists"));
  }
  Nonce* nonce = nullptr;
  if (!commit.nonce.empty()) {
    auto it = nonces_.find(commit.nonce);
    if (it == nonces_.end()) return absl::PermissionDeniedError("nonce never issued");
    if (it->second.used) return absl::PermissionDeniedError("nonce already used");
    if (it->second.expires_at <= commit.now) return absl::PermissionDeniedError("nonce expired");
    nonce = &it->second;
  }
  AttesterRecord* attester = nullptr;
  if (!record.attester_id.empty()) {
    for (AttesterRecord& r : attesters_) {
      if (r.id == record.attester_id) attester = &r;
    }
    if (attester == nullptr) return absl::NotFoundError(absl::StrCat("no attester ", record.attester_id));
  } else if (commit.counters) {
    return absl::InvalidArgumentError("counters without an attester");
  }
  AuditReceipt written;
  if (commit.audit) {
    for (const BlobRecord& blob : commit.audit->blobs) RETURN_IF_ERROR(CheckBlobLocked(blob));
    // Signs before anything changes: a failed signature changes nothing.
    RETURN_IF_ERROR(AppendLeafLocked(*commit.audit, record.id, leaf_time, &written));
  }
  if (nonce != nullptr) nonce->used = true;
  if (commit.counters &&
      (!attester->counters || CounterOrder(*commit.counters) > CounterOrder(*attester->counters))) {
    attester->counters = commit.counters;
  }
  results_.emplace(record.id, record);
  if (receipt != nullptr) *receipt = std::move(written);
  return absl::OkStatus();
}

absl::StatusOr<ResultRecord> MemoryStore::GetResult(absl::string_view id) {
  FDATTEST_MEMORY_STORE_LOCK();
  auto it = results_.find(id);
  if (it == results_.end()) return absl::NotFoundError(absl::StrCat("no result ", id));
  return it->second;
}

absl::StatusOr<TenantRecord> MemoryStore::EnsureTenant(absl::string_view id,
                                                       absl::string_view sealed_key, int64_t now) {
  FDATTEST_MEMORY_STORE_LOCK();
  RETURN_IF_ERROR(CheckTenantId(id));
  if (sealed_key.empty()) return absl::InvalidArgumentError("empty sealed tenant key");
  auto [it, added] = tenants_.try_emplace(
      std::string(id), TenantRecord{std::string(id), std::string(sealed_key), now, 0});
  if (it->second.shredded_at != 0) {
    return absl::FailedPreconditionError(absl::StrCat("tenant ", id, " was shredded"));
  }
  return it->second;
}

absl::StatusOr<TenantRecord> MemoryStore::GetTenant(absl::string_view id) {
  FDATTEST_MEMORY_STORE_LOCK();
  RETURN_IF_ERROR(CheckTenantId(id));
  auto it = tenants_.find(id);
  if (it == tenants_.end()) return absl::NotFoundError(absl::StrCat("no tenant ", id));
  return it->second;
}

absl::Status MemoryStore::ShredTenant(absl::string_view id, int64_t now) {
  FDATTEST_MEMORY_STORE_LOCK();
  RETURN_IF_ERROR(CheckTenantId(id));
  TenantRecord& tenant =
      tenants_.try_emplace(std::string(id), TenantRecord{std::string(id), "", now, now})
          .first->second;
  tenant.sealed_key.clear();
  if (tenant.shredded_at == 0) tenant.shredded_at = now;
  for (auto& [address, blob] : blobs_) {
    if (blob.tenant == id) blob.sealed.clear();
  }
  for (auto& [result_id, result] : results_) {
    bool of_tenant = result.attester_id.empty() && id == "default";
    for (const AttesterRecord& a : attesters_) {
      if (a.id == result.attester_id && a.tenant == id) of_tenant = true;
    }
    if (of_tenant) result.body.clear();  // answered 410 Gone
  }
  return absl::OkStatus();
}

absl::Status MemoryStore::PutBlob(const BlobRecord& record) {
  FDATTEST_MEMORY_STORE_LOCK();
  RETURN_IF_ERROR(CheckBlobLocked(record));
  StoreBlobLocked(record);
  return absl::OkStatus();
}

absl::Status MemoryStore::CheckBlobLocked(const BlobRecord& record) const {
  RETURN_IF_ERROR(CheckTenantId(record.tenant));
  if (record.sha256.size() != 64 || !IsLowerHex(record.sha256) || record.sealed.empty()) {
    return absl::InvalidArgumentError("a blob needs a 64-hex-digit sha256 and a ciphertext");
  }
  auto tenant = tenants_.find(record.tenant);
  if (tenant == tenants_.end()) {
    return absl::NotFoundError(absl::StrCat("no tenant ", record.tenant));
  }
  if (tenant->second.shredded_at != 0) {
    return absl::FailedPreconditionError(absl::StrCat("tenant ", record.tenant, " was shredded"));
  }
  return absl::OkStatus();
}

void MemoryStore::StoreBlobLocked(const BlobRecord& record) {
  auto [it, added] = blobs_.try_emplace({record.tenant, record.sha256, record.kind}, record);
  if (!added) {
    BlobRecord& stored = it->second;
    if (stored.sealed.empty()) {
      stored.sealed = record.sealed;
      stored.created_at = record.created_at;
    }
    stored.expires_at = std::max(stored.expires_at, record.expires_at);
  }
}

absl::StatusOr<BlobRecord> MemoryStore::GetBlob(absl::string_view tenant,
                                                absl::string_view sha256, BlobKind kind) {
  FDATTEST_MEMORY_STORE_LOCK();
  RETURN_IF_ERROR(CheckTenantId(tenant));
  auto it = blobs_.find({std::string(tenant), std::string(sha256), kind});
  if (it == blobs_.end()) return absl::NotFoundError(absl::StrCat("no blob ", sha256));
  if (it->second.sealed.empty()) {
    auto t = tenants_.find(tenant);
    bool shredded = t != tenants_.end() && t->second.shredded_at != 0;
    return absl::FailedPreconditionError(
        absl::StrCat("blob ", sha256, shredded ? " was shredded" : " expired"));
  }
  return it->second;
}

absl::StatusOr<int64_t> MemoryStore::ExpireBlobs(int64_t now) {
  FDATTEST_MEMORY_STORE_LOCK();
  int64_t expired = 0;
  for (auto& [address, blob] : blobs_) {
    if (!blob.sealed.empty() && blob.expires_at <= now) {
      blob.sealed.clear();
      ++expired;
    }
  }
  return expired;
}

#undef FDATTEST_MEMORY_STORE_LOCK

}  // namespace fdattest
