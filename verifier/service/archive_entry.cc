#include "verifier/service/archive_entry.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "verifier/audit/archive_records.h"
#include "verifier/audit/tenant_keys.h"

namespace fdattest {

absl::StatusOr<std::shared_ptr<const SecretBox>> TenantKeyCache::Get(absl::string_view tenant,
                                                                     int64_t now) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = keys_.find(tenant);
    if (it != keys_.end()) return it->second;
  }
  if (service_key_ == nullptr) return absl::InternalError("no secret key configured");
  ASSIGN_OR_RETURN(std::string fresh, NewSealedTenantKey(*service_key_, tenant));
  // An existing tenant keeps its key: EnsureTenant returns the stored one.
  ASSIGN_OR_RETURN(TenantRecord record, store_->EnsureTenant(tenant, fresh, now));
  ASSIGN_OR_RETURN(SecretBox key, OpenTenantKey(*service_key_, tenant, record.sealed_key));
  auto shared = std::make_shared<const SecretBox>(std::move(key));
  std::lock_guard<std::mutex> lock(mu_);
  return keys_.emplace(std::string(tenant), std::move(shared)).first->second;
}

void TenantKeyCache::Forget(absl::string_view tenant) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = keys_.find(tenant);
  if (it != keys_.end()) keys_.erase(it);
}

absl::StatusOr<AuditAppend> BuildArchiveEntry(const ArchiveFacts& facts, TenantKeyCache& keys,
                                              int64_t retention_seconds) {
  const ResultRecord& result = *facts.result;
  const std::string tenant = facts.attester != nullptr ? facts.attester->tenant : "default";

  DecisionRecord decision;
  decision.result_id = result.id;
  decision.time = result.created_at;
  decision.nonce_expires_at = facts.nonce_expires_at;
  if (facts.attester != nullptr) {
    decision.attester = DecisionAttester{facts.attester->id, facts.attester->ak_name,
                                         facts.attester->ak_public, "active"};
  }
  decision.previous_counters = facts.previous_counters;
  decision.policy_id = facts.policy->id;
  decision.policy_version = facts.policy->version;
  decision.policy_sha256 = facts.policy->sha256;
  decision.evidence_sha256 = result.evidence_sha256;
  // Each blob's address is computed once: it names the blob and goes into
  // the decision record or the leaf.
  const std::string evidence_address = BlobAddress(facts.evidence);
  decision.evidence_bytes_sha256 = evidence_address;
  decision.tenant = tenant;
  decision.nonce_refusal = facts.nonce_refusal;
  decision.identity_refusal = facts.identity_refusal;
  decision.tpm_ca_sha256 = facts.tpm_ca_sha256;
  RETURN_IF_ERROR(decision.Validate());
  const std::string decision_bytes = decision.Serialize();
  const std::string result_address = BlobAddress(result.body);
  const std::string decision_address = BlobAddress(decision_bytes);

  AuditLeaf leaf;
  leaf.result_id = result.id;
  leaf.time = result.created_at;
  leaf.tenant = tenant;
  leaf.attester_id = result.attester_id;
  leaf.policy_id = facts.policy->id;
  leaf.policy_version = facts.policy->version;
  leaf.policy_sha256 = facts.policy->sha256;
  leaf.evidence_sha256 = result.evidence_sha256;
  leaf.result_sha256 = result_address;
  leaf.decision_sha256 = decision_address;
  leaf.verdict = result.verdict;
  RETURN_IF_ERROR(leaf.Validate());

  ASSIGN_OR_RETURN(std::shared_ptr<const SecretBox> key, keys.Get(tenant, result.created_at));
  AuditAppend entry;
  entry.leaf = leaf.Serialize();
  struct Blob {
    BlobKind kind;
    absl::string_view plaintext;
    const std::string& address;
  };
  const Blob blobs[] = {{BlobKind::kEvidence, facts.evidence, evidence_address},
                        {BlobKind::kResult, result.body, result_address},
                        {BlobKind::kDecision, decision_bytes, decision_address}};
  for (const auto& [kind, plaintext, address] : blobs) {
    BlobRecord blob;
    blob.sha256 = address;
    blob.tenant = tenant;
    blob.kind = kind;
    ASSIGN_OR_RETURN(blob.sealed, SealBlob(*key, tenant, kind, blob.sha256, plaintext));
    blob.created_at = result.created_at;
    blob.expires_at = result.created_at + retention_seconds;
    entry.blobs.push_back(std::move(blob));
  }
  return entry;
}

}  // namespace fdattest
