// POST /v1/attest and GET /v1/attestations/{id}: evidence through the one
// verification pipeline (verifier/verify.h), with the store behind its hooks:
// the nonce is checked, claimed, and consumed with the result (exactly once
// across connections: Store::CommitAttestation), the AK must belong to an
// active attester, whose recorded counters are the baseline of step 4b. A bundle that step 1 refuses is no evidence (400, its
// nonce untouched); every other bundle gets a recorded, signed result.
#include <openssl/crypto.h>

#include <algorithm>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/base64.h"
#include "common/build_info.h"
#include "common/json.h"
#include "common/sha256.h"
#include "verifier/ear.h"
#include "verifier/report.h"
#include "verifier/secret_box.h"
#include "verifier/secret_release.h"
#include "verifier/service/archive_entry.h"
#include "verifier/service/handlers.h"
#include "verifier/service/metrics.h"
#include "verifier/service/nonce_budget.h"
#include "verifier/service/policy_cache.h"
#include "verifier/service/request_parsers.h"
#include "verifier/verify.h"

namespace fdattest {
namespace {

constexpr size_t kResultIdBytes = 16;

// The policy and secrets an attestation asks for, from its query.
struct AttestTarget {
  std::string policy_id;
  std::vector<SecretRecord> secrets;
};

// `policy` names the policy; `release` the secrets, which must all be bound
// to one policy (the named one, when both are given).
absl::StatusOr<AttestTarget> ResolveTarget(ServiceContext& context, const ApiRequest& request,
                                           std::optional<ApiResponse>& problem) {
  AttestTarget target;
  AttestQuery query;
  if (std::optional<ApiResponse> refused = ParseAttestQuery(request.query, &query)) {
    problem = *std::move(refused);
    return target;
  }
  target.policy_id = query.policy_id;
  const std::vector<std::string>& names = query.release;
  for (const std::string& name : names) {
    absl::StatusOr<SecretRecord> secret = context.store->GetSecret(name);
    if (absl::IsNotFound(secret.status())) {
      problem = Problem(404, "unknown-secret", "Not found", absl::StrCat("no secret ", name));
      return target;
    }
    if (!secret.ok()) return secret.status();
    if (target.policy_id.empty()) target.policy_id = secret->policy_id;
    if (secret->policy_id != target.policy_id) {
      problem = Problem(400, "policy-mismatch", "Bad request",
                        absl::StrCat("secret ", name, " is bound to policy ", secret->policy_id,
                                     ", not ", target.policy_id));
      return target;
    }
    target.secrets.push_back(*std::move(secret));
  }
  return target;
}

// What the store says about the AK step 3a asks for.
absl::StatusOr<std::string> EnrolledAk(Store& store, absl::string_view ak_name,
                                       std::optional<AttesterRecord>& attester,
                                       absl::Status& store_failure) {
  absl::StatusOr<AttesterRecord> found = store.FindAttesterByAkName(ak_name);
  if (absl::IsNotFound(found.status())) {
    return absl::PermissionDeniedError("not enrolled: no attester has this AK");
  }
  if (!found.ok()) {
    store_failure = found.status();
    return absl::UnavailableError("the attester registry failed");
  }
  switch (found->state) {
    case AttesterState::kPending:
      return absl::PermissionDeniedError("attester pending: its AK's credential was not activated");
    case AttesterState::kRevoked:
      return absl::PermissionDeniedError("attester revoked");
    case AttesterState::kActive:
      break;
  }
  attester = *std::move(found);
  return attester->ak_public;
}

// The compact JWE of secret `name` (one of target's) for the launch that
// earned it; the plaintext lives only inside this call.
absl::StatusOr<std::string> WrapSecret(ServiceContext& context, const AttestTarget& target,
                                       const std::string& name, const VerifyResult& result) {
  if (context.secret_box == nullptr) return absl::FailedPreconditionError("no secret key configured");
  if (!result.manifest || !result.manifest->release_key) {
    return absl::InternalError("released without a release key");  // ReleaseSecrets checks it
  }
  auto secret = std::find_if(target.secrets.begin(), target.secrets.end(),
                             [&](const SecretRecord& s) { return s.name == name; });
  if (secret == target.secrets.end()) return absl::InternalError("released an unrequested secret");
  ASSIGN_OR_RETURN(std::string plaintext, context.secret_box->Open(name, secret->ciphertext));
  absl::StatusOr<std::string> jwe =
      EncryptSecretForLaunch(result.manifest->release_key->ToJwk(), plaintext, result.launch_id);
  OPENSSL_cleanse(plaintext.data(), plaintext.size());
  return jwe;
}

bool RefusedInStepOne(const VerifyResult& result) {
  return result.verdict == Verdict::kBrokenEvidence && !result.steps.empty() &&
         result.steps.back().id == "evidence" &&
         result.steps.back().outcome == StepReport::Outcome::kFail;
}

// One run of the pipeline with the store behind its hooks: the nonce is
// checked in the store and claimed in this process (it is consumed with the
// result, by Store::CommitAttestation), the AK must belong to an active
// attester, whose recorded counters are step 4b's baseline.
struct PipelineRun {
  VerifyResult result;
  std::optional<AttesterRecord> attester;
  std::string nonce;  // the nonce the run accepted and holds, or empty
  int64_t nonce_expires_at = 0;
  // What the hooks answered (the decision record keeps it for re-runs).
  std::string nonce_refusal, identity_refusal;
  std::shared_ptr<NonceClaims> claims;
  PipelineRun() = default;
  PipelineRun(PipelineRun&&) = default;
  ~PipelineRun() {
    if (claims != nullptr && !nonce.empty()) claims->Release(nonce);
  }
};

absl::StatusOr<PipelineRun> RunPipeline(ServiceContext& context, absl::string_view evidence,
                                        const Policy& policy, int64_t now) {
  TrustAnchors anchors;
  anchors.tpm_ca_pem = context.tpm_ca_pem;
  PipelineRun run;
  run.claims = context.nonce_claims;
  absl::Status store_failure;
  VerifyRequest verify;
  verify.evidence = evidence;
  verify.anchors = &anchors;
  verify.policy = &policy;
  verify.now = now;
  verify.consume_nonce = [&](absl::string_view nonce) {
    if (!run.claims->Claim(nonce)) {
      run.nonce_refusal = "the nonce was already used";
      return absl::PermissionDeniedError(run.nonce_refusal);
    }
    absl::StatusOr<int64_t> expires_at = context.store->CheckNonce(nonce, now);
    if (!expires_at.ok()) {
      run.claims->Release(nonce);
      if (expires_at.status().code() != absl::StatusCode::kPermissionDenied) {
        store_failure = expires_at.status();
      }
      run.nonce_refusal = std::string(expires_at.status().message());
      return expires_at.status();
    }
    run.nonce = std::string(nonce);
    run.nonce_expires_at = *expires_at;
    return absl::OkStatus();
  };
  verify.enrolled_ak = [&](absl::string_view ak_name) {
    absl::StatusOr<std::string> ak = EnrolledAk(*context.store, ak_name, run.attester, store_failure);
    if (!ak.ok()) run.identity_refusal = std::string(ak.status().message());
    return ak;
  };
  verify.previous_counters_of = [&](absl::string_view) -> std::optional<TpmCounters> {
    return run.attester ? run.attester->counters : std::nullopt;
  };
  verify.cache = context.proof_cache;
  verify.identity_cache = context.identity_cache;
  run.result = Verify(verify);
  if (!store_failure.ok()) return store_failure;
  return run;
}

}  // namespace

ApiResponse HandleAttest(ServiceContext& context, const ApiRequest& request) {
  if (context.store == nullptr || context.policies == nullptr) {
    return StoreProblem(absl::UnavailableError("no store"));
  }
  std::optional<ApiResponse> problem;
  absl::StatusOr<AttestTarget> target = ResolveTarget(context, request, problem);
  if (problem) return *problem;
  if (!target.ok()) return StoreProblem(target.status());
  absl::StatusOr<PolicyRecord> policy_record = context.store->GetPolicy(target->policy_id);
  if (absl::IsNotFound(policy_record.status())) {
    return Problem(404, "unknown-policy", "Not found", absl::StrCat("no policy ", target->policy_id));
  }
  if (!policy_record.ok()) return StoreProblem(policy_record.status());
  absl::StatusOr<std::shared_ptr<const Policy>> policy = context.policies->Get(*policy_record);
  if (!policy.ok()) {
    ApiResponse response = ProblemFromStatus(absl::InternalError(""), "internal");
    response.log.emplace_back("error", absl::StrCat("stored policy ", target->policy_id,
                                                    " does not parse: ", policy.status().message()));
    return response;
  }

  // The pipeline, with the store behind its hooks.
  const int64_t now = context.now();
  absl::StatusOr<PipelineRun> run = RunPipeline(context, request.body, **policy, now);
  if (!run.ok()) return StoreProblem(run.status());
  if (RefusedInStepOne(run->result)) {
    return Problem(400, "malformed-evidence", "Malformed evidence", run->result.reason);
  }
  std::string ear;
  if (context.signing_key != nullptr) {
    absl::StatusOr<std::string> token = IssueEar(
        MakeEarInput(run->result, **policy, now, context.limits.ear_lifetime, BuildId()),
        *context.signing_key);
    if (!token.ok()) {
      ApiResponse response = ProblemFromStatus(absl::InternalError(""), "internal");
      response.log.emplace_back("error", absl::StrCat("EAR: ", token.status().message()));
      return response;
    }
    ear = *std::move(token);
  }
  const std::string id = HexEncode(context.random(kResultIdBytes));
  Json report = ReportJson(run->result);
  report["policy_id"] = (*policy)->id;
  Json document = {{"id", id},
                   {"verdict", std::string(VerdictName(run->result.verdict))},
                   {"failure", std::string(FailureClassName(run->result.failure))},
                   {"reason", run->result.reason},
                   {"ear", ear},
                   {"report", std::move(report)}};

  // Secret release (verifier/secret_release.h): the decision is the pure
  // function's; each released value is opened from the store, wrapped for the
  // launch's key and its plaintext cleansed at once.
  Json secrets = Json::object();
  Json refused = Json::object();
  // A secret is bound to a policy by its id here (the URL's); ReleaseSecrets
  // knows the policy by its document's id.
  std::vector<BoundSecret> requested;
  for (const SecretRecord& secret : target->secrets) {
    requested.push_back(
        {secret.name, secret.policy_id == policy_record->id ? (*policy)->id : secret.policy_id});
  }
  const ReleaseDecision decision = ReleaseSecrets(run->result, **policy, requested);
  for (const auto& [name, why] : decision.refused) refused[name] = why;
  std::vector<std::pair<std::string, std::string>> release_errors;
  for (const std::string& name : decision.released) {
    absl::StatusOr<std::string> jwe = WrapSecret(context, *target, name, run->result);
    if (!jwe.ok()) {
      refused[name] = "the verifier cannot release this secret now";
      release_errors.emplace_back("error", absl::StrCat("secret ", name, ": ", jwe.status().message()));
      continue;
    }
    secrets[name] = *std::move(jwe);
  }
  document["refused"] = refused;

  // The result is serialised once: stored as it is, and served with the
  // released secrets (which are never stored) added as the last member.
  AttestationCommit commit;
  commit.nonce = run->nonce;
  commit.now = now;
  commit.counters = run->attester ? run->result.counters : std::nullopt;
  ResultRecord& record = commit.result;
  record.id = id;
  record.attester_id = run->attester ? run->attester->id : "";
  record.policy_id = policy_record->id;
  record.policy_version = policy_record->version;
  record.verdict = std::string(VerdictName(run->result.verdict));
  record.evidence_sha256 = run->result.evidence_sha256;
  record.body = document.dump(-1, ' ', false, Json::error_handler_t::replace);  // no secrets
  record.created_at = now;
  if (context.tenant_keys != nullptr) {
    ArchiveFacts facts;
    facts.result = &record;
    facts.evidence = request.body;
    facts.policy = &*policy_record;
    facts.attester = run->attester ? &*run->attester : nullptr;
    facts.previous_counters = run->attester ? run->attester->counters : std::nullopt;
    facts.nonce_expires_at = run->nonce_expires_at;
    facts.nonce_refusal = run->nonce_refusal;
    facts.identity_refusal = run->identity_refusal;
    facts.tpm_ca_sha256 = context.tpm_ca_sha256;
    absl::StatusOr<AuditAppend> entry =
        BuildArchiveEntry(facts, *context.tenant_keys, context.limits.retention_seconds);
    if (!entry.ok()) {
      // A decision that cannot be archived is not made: nothing is recorded.
      if (absl::IsFailedPrecondition(entry.status())) {
        return Problem(409, "tenant-shredded", "Conflict",
                       "the attester's tenant was shredded: its decisions are no longer archived");
      }
      return StoreProblem(entry.status());
    }
    commit.audit = *std::move(entry);
  }
  const bool archived = commit.audit.has_value();
  AuditReceipt receipt;
  if (absl::Status s = context.store->CommitAttestation(commit, archived ? &receipt : nullptr);
      !s.ok()) {
    // PermissionDenied: another process consumed the nonce after this one
    // checked it; the client may post fresh evidence. Nothing was recorded.
    if (absl::IsPermissionDenied(s)) {
      return Problem(409, "nonce-race", "Conflict",
                     absl::StrCat("the evidence's nonce was consumed meanwhile: ", s.message()));
    }
    return StoreProblem(s);
  }
  if (!run->nonce.empty() && context.nonces != nullptr) context.nonces->Consumed();
  if (context.metrics != nullptr) context.metrics->RecordVerdict(record.verdict);

  ApiResponse response;
  response.status = 200;
  response.body = std::move(record.body);
  response.body.pop_back();  // the document's closing '}'
  if (archived) {
    // The receipt (docs/formats/archive.md): where the decision is in the
    // log, proven against the checkpoint its commit signed.
    absl::StatusOr<std::vector<MerkleHash>> proof =
        context.store->AuditInclusionProof(receipt.leaf_index, receipt.tree_size);
    if (!proof.ok()) return StoreProblem(proof.status());
    Json path = Json::array();
    for (const MerkleHash& h : *proof) {
      path.push_back(Base64Encode(absl::string_view(reinterpret_cast<const char*>(h.data()), h.size())));
    }
    const Json receipt_json = {{"leaf_index", receipt.leaf_index},
                               {"tree_size", receipt.tree_size},
                               {"leaf", commit.audit->leaf},
                               {"inclusion_proof", std::move(path)},
                               {"checkpoint", receipt.checkpoint}};
    absl::StrAppend(&response.body, ",\"receipt\":",
                    receipt_json.dump(-1, ' ', false, Json::error_handler_t::replace));
  }
  absl::StrAppend(&response.body, ",\"secrets\":",
                  secrets.dump(-1, ' ', false, Json::error_handler_t::replace), "}");
  response.log = {{"verdict", record.verdict},
                  {"attestation", id},
                  {"attester", record.attester_id},
                  {"policy", record.policy_id},
                  {"released", absl::StrCat(secrets.size())}};
  for (auto& e : release_errors) response.log.push_back(std::move(e));
  return response;
}

ApiResponse HandleGetAttestation(ServiceContext& context, const ApiRequest& request) {
  const std::string& id = request.path_params.at("id");
  if (context.store == nullptr) return StoreProblem(absl::UnavailableError("no store"));
  if (!IsValidHexId(id)) {
    return Problem(404, "unknown-attestation", "Not found", "no attestation has this id");
  }
  absl::StatusOr<ResultRecord> record = context.store->GetResult(id);
  if (absl::IsNotFound(record.status())) {
    return Problem(404, "unknown-attestation", "Not found", "no attestation has this id");
  }
  if (!record.ok()) return StoreProblem(record.status());
  if (record->body.empty()) {
    // Its tenant was crypto-shredded (Store::ShredTenant): the decision's
    // leaf stays in the audit log, its document is gone.
    return Problem(410, "attestation-shredded", "Gone",
                   "this result's tenant was shredded; the audit log keeps its digests only");
  }
  ApiResponse response;
  response.body = record->body;
  return response;
}

}  // namespace fdattest
