#include "verifier/audit/bundle_export.h"

#include <openssl/crypto.h>

#include <optional>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/base64.h"
#include "common/json.h"
#include "common/sha256.h"
#include "verifier/audit/archive_records.h"
#include "verifier/audit/tenant_keys.h"

namespace fdattest {
namespace {

std::string AttesterJson(const AttesterRecord& r) {
  auto time_or_null = [](int64_t t) { return t == 0 ? Json(nullptr) : Json(t); };
  return Json{{"id", r.id},
              {"tenant", r.tenant},
              {"state", std::string(AttesterStateName(r.state))},
              {"ek_certificate", Base64Encode(r.ek_certificate)},
              {"ek_sha256", r.ek_sha256},
              {"ak_public", Base64Encode(r.ak_public)},
              {"ak_name", r.ak_name},
              {"created_at", r.created_at},
              {"activated_at", time_or_null(r.activated_at)},
              {"revoked_at", time_or_null(r.revoked_at)}}
             .dump() +
         "\n";
}

// The tenants' data keys, opened once per export.
class TenantKeys {
 public:
  TenantKeys(Store& store, const SecretBox& service_key) : store_(store), service_key_(service_key) {}
  // The tenant's key, or nullopt when it was shredded.
  absl::StatusOr<std::optional<SecretBox>> Get(const std::string& tenant) {
    auto it = keys_.find(tenant);
    if (it != keys_.end()) return it->second;
    ASSIGN_OR_RETURN(TenantRecord record, store_.GetTenant(tenant));
    std::optional<SecretBox> key;
    if (!record.sealed_key.empty()) {
      ASSIGN_OR_RETURN(SecretBox opened, OpenTenantKey(service_key_, tenant, record.sealed_key));
      key.emplace(std::move(opened));
    }
    return keys_.emplace(tenant, std::move(key)).first->second;
  }

 private:
  Store& store_;
  const SecretBox& service_key_;
  std::map<std::string, std::optional<SecretBox>> keys_;
};

// One blob's plaintext, or why it is gone ("shredded" / "expired").
absl::StatusOr<std::pair<std::optional<std::string>, std::string>> ReadBlob(
    Store& store, TenantKeys& keys, const std::string& tenant, const std::string& sha256,
    BlobKind kind) {
  using Out = std::pair<std::optional<std::string>, std::string>;
  ASSIGN_OR_RETURN(std::optional<SecretBox> key, keys.Get(tenant));
  if (!key) return Out{std::nullopt, "shredded"};
  absl::StatusOr<BlobRecord> blob = store.GetBlob(tenant, sha256, kind);
  if (absl::IsFailedPrecondition(blob.status())) {
    const bool shredded = blob.status().message().find("shred") != absl::string_view::npos;
    return Out{std::nullopt, shredded ? "shredded" : "expired"};
  }
  if (!blob.ok()) return blob.status();
  ASSIGN_OR_RETURN(std::string plaintext, OpenBlob(*key, tenant, kind, sha256, blob->sealed));
  return Out{std::move(plaintext), ""};
}

}  // namespace

absl::StatusOr<AuditBundle> ExportAuditBundle(const AuditExportRequest& request) {
  if (request.store == nullptr || request.service_key == nullptr) {
    return absl::InvalidArgumentError("an export needs the store and the service key");
  }
  if (request.from >= request.to) return absl::InvalidArgumentError("the range is empty");
  Store& store = *request.store;
  ASSIGN_OR_RETURN(SignedCheckpoint latest, store.LatestCheckpoint());
  ASSIGN_OR_RETURN(auto range, store.AuditRangeByTime(request.from, request.to));
  const auto [first, end] = range;
  if (end - first > request.max_entries) {
    return absl::InvalidArgumentError(absl::StrCat("the range holds ", end - first,
                                                   " decisions; at most ", request.max_entries));
  }
  AuditBundle bundle;
  bundle.checkpoint = latest.note;
  bundle.log_vkey = request.log_vkey + "\n";
  bundle.jwks = request.jwks;
  if (bundle.jwks.empty() || bundle.jwks.back() != '\n') bundle.jwks += "\n";
  const std::string tpm_ca_sha256 = HexEncode(Sha256(request.tpm_ca_pem));
  TenantKeys keys(store, *request.service_key);

  for (uint64_t index = first; index < end; ++index) {
    ASSIGN_OR_RETURN(std::vector<std::string> leaves, store.AuditLeaves(index, 1));
    ASSIGN_OR_RETURN(AuditLeaf leaf, AuditLeaf::Parse(leaves.front()));
    if (leaf.time < request.from || leaf.time >= request.to) continue;  // a neighbour
    AuditBundleEntry entry;
    entry.leaf = leaves.front();
    ASSIGN_OR_RETURN(std::vector<MerkleHash> proof, store.AuditInclusionProof(index, latest.size));
    entry.proof = FormatMerkleProof(proof);

    std::vector<GoneBlob> gone;
    auto read = [&](BlobKind kind, const std::string& sha256,
                    std::optional<std::string>& into) -> absl::Status {
      ASSIGN_OR_RETURN(auto blob, ReadBlob(store, keys, leaf.tenant, sha256, kind));
      if (blob.first) {
        into = std::move(blob.first);
      } else {
        gone.push_back({std::string(BlobKindName(kind)), blob.second});
      }
      return absl::OkStatus();
    };
    RETURN_IF_ERROR(read(BlobKind::kDecision, leaf.decision_sha256, entry.decision));
    std::optional<DecisionRecord> decision;
    if (entry.decision) {
      ASSIGN_OR_RETURN(DecisionRecord parsed, DecisionRecord::Parse(*entry.decision));
      decision = std::move(parsed);
      RETURN_IF_ERROR(read(BlobKind::kEvidence, decision->evidence_bytes_sha256, entry.evidence));
    } else {
      gone.insert(gone.begin(), {"evidence", gone.front().why});
    }
    RETURN_IF_ERROR(read(BlobKind::kResult, leaf.result_sha256, entry.result));
    if (!gone.empty()) {
      // The format's order: evidence, result, decision.
      std::vector<GoneBlob> ordered;
      for (const char* kind : {"evidence", "result", "decision"}) {
        for (const GoneBlob& g : gone) {
          if (g.kind == kind) ordered.push_back(g);
        }
      }
      entry.gone = FormatGoneBlobs(ordered);
    }

    ASSIGN_OR_RETURN(PolicyRecord policy, store.GetPolicy(leaf.policy_id, leaf.policy_version));
    if (policy.sha256 != leaf.policy_sha256) {
      return absl::DataLossError(absl::StrCat("policy ", leaf.policy_id, " version ",
                                              leaf.policy_version, " is not the one leaf ", index,
                                              " names"));
    }
    bundle.policies[policy.sha256] = policy.text;
    if (decision && !decision->tpm_ca_sha256.empty()) {
      if (decision->tpm_ca_sha256 != tpm_ca_sha256) {
        return absl::FailedPreconditionError(absl::StrCat(
            "decision ", index, " trusted TPM CAs with sha256 ", decision->tpm_ca_sha256,
            "; give that file (the --tpm-ca the verifier ran with then)"));
      }
      bundle.tpm_cas[tpm_ca_sha256] = request.tpm_ca_pem;
    }
    if (!leaf.attester_id.empty()) {
      ASSIGN_OR_RETURN(AttesterRecord attester, store.GetAttester(leaf.attester_id));
      bundle.attesters[attester.id] = AttesterJson(attester);
    }
    bundle.entries.emplace(index, std::move(entry));
  }

  // The checkpoints the log signed inside the range, each proven consistent
  // with the latest.
  for (uint64_t size = first + 1; size <= end && size < latest.size; ++size) {
    absl::StatusOr<SignedCheckpoint> checkpoint = store.CheckpointOfSize(size);
    if (absl::IsNotFound(checkpoint.status())) continue;
    if (!checkpoint.ok()) return checkpoint.status();
    ASSIGN_OR_RETURN(std::vector<MerkleHash> proof, store.AuditConsistencyProof(size, latest.size));
    bundle.checkpoints[size] = checkpoint->note;
    bundle.consistency[size] = FormatMerkleProof(proof);
  }
  return bundle;
}

}  // namespace fdattest
