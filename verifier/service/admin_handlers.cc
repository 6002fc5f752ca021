// The administrators' and auditors' routes: policies and secrets.
#include <openssl/crypto.h>

#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/json.h"
#include "verifier/policy_model.h"
#include "verifier/secret_box.h"
#include "verifier/service/handlers.h"
#include "verifier/service/policy_cache.h"
#include "verifier/service/request_parsers.h"

namespace fdattest {
namespace {

// Seals a secret's plaintext for the store with context.secret_box
// (verifier/secret_box.h: SecretBox::Seal(name, plaintext) binds the
// ciphertext to the name).
// TO WIRE AT MERGE (secret_box.h lands with the SQLite store): replace the
// body with `return context.secret_box->Seal(name, plaintext);` and include
// "verifier/secret_box.h". Until then no secret can be stored: fail closed.
absl::StatusOr<std::string> SealSecret(ServiceContext& context, absl::string_view name,
                                       absl::string_view plaintext) {
  if (context.secret_box == nullptr) {
    return absl::UnavailableError("no secret key configured");
  }
  return context.secret_box->Seal(name, plaintext);
}

ApiResponse PolicyIdProblem() {
  return Problem(400, "bad-policy-id", "Bad request",
                 "a policy id is 1..128 of [A-Za-z0-9._-], not starting with '.' or '-'");
}

}  // namespace

ApiResponse HandlePutPolicy(ServiceContext& context, const ApiRequest& request) {
  const std::string& id = request.path_params.at("id");
  if (!IsValidName(id)) return PolicyIdProblem();
  if (context.store == nullptr) return StoreProblem(absl::UnavailableError("no store"));
  // Validated by the parser the attestations use, so a stored policy parses.
  if (absl::StatusOr<Policy> parsed = Policy::Parse(request.body); !parsed.ok()) {
    return Problem(400, "bad-policy", "Bad policy", parsed.status().message());
  }
  absl::StatusOr<PolicyRecord> stored = context.store->PutPolicy(id, request.body, context.now());
  if (!stored.ok()) return StoreProblem(stored.status());
  if (context.policies != nullptr) (void)context.policies->Get(*stored);  // parsed for the next attest
  ApiResponse response =
      JsonReply(200, {{"id", stored->id}, {"version", stored->version}, {"sha256", stored->sha256}});
  response.log = {{"policy", stored->id}, {"policy_version", absl::StrCat(stored->version)}};
  return response;
}

ApiResponse HandleGetPolicy(ServiceContext& context, const ApiRequest& request) {
  const std::string& id = request.path_params.at("id");
  if (!IsValidName(id)) return PolicyIdProblem();
  if (context.store == nullptr) return StoreProblem(absl::UnavailableError("no store"));
  std::optional<int64_t> version;
  if (auto it = request.query.find("version"); it != request.query.end()) {
    int64_t v = 0;
    if (!absl::SimpleAtoi(it->second, &v) || v < 1) {
      return Problem(400, "bad-version", "Bad request", "version must be a positive integer");
    }
    version = v;
  }
  absl::StatusOr<PolicyRecord> record = context.store->GetPolicy(id, version);
  if (absl::IsNotFound(record.status())) {
    return Problem(404, "unknown-policy", "Not found", absl::StrCat("no policy ", id,
                                                                    version ? " at that version" : ""));
  }
  if (!record.ok()) return StoreProblem(record.status());
  ApiResponse response;
  response.body = record->text;
  response.headers = {{"X-Policy-Version", absl::StrCat(record->version)},
                      {"X-Policy-Sha256", record->sha256}};
  return response;
}

ApiResponse HandlePutSecret(ServiceContext& context, const ApiRequest& request) {
  const std::string& name = request.path_params.at("name");
  if (!IsValidName(name)) {
    return Problem(400, "bad-secret-name", "Bad request",
                   "a secret name is 1..128 of [A-Za-z0-9._-], not starting with '.' or '-'");
  }
  if (context.store == nullptr) return StoreProblem(absl::UnavailableError("no store"));
  absl::StatusOr<SecretBody> body = ParseSecretBody(request.body);
  if (!body.ok()) return ProblemFromStatus(body.status(), "bad-secret");
  // The plaintext is wiped whichever way this returns.
  struct Wipe {
    std::string& s;
    ~Wipe() { OPENSSL_cleanse(s.data(), s.size()); }
  } wipe{body->value};
  absl::StatusOr<PolicyRecord> policy = context.store->GetPolicy(body->policy);
  if (absl::IsNotFound(policy.status())) {
    return Problem(404, "unknown-policy", "Not found",
                   absl::StrCat("no policy ", body->policy, " to bind the secret to"));
  }
  if (!policy.ok()) return StoreProblem(policy.status());
  absl::StatusOr<std::string> sealed = SealSecret(context, name, body->value);
  if (!sealed.ok()) {
    ApiResponse response = Problem(503, "secrets-unavailable", "Service unavailable",
                                   "this verifier cannot store secrets now");
    response.log.emplace_back("error", std::string(sealed.status().message()));
    return response;
  }
  SecretRecord record;
  record.name = name;
  record.ciphertext = *std::move(sealed);
  record.policy_id = body->policy;
  record.updated_at = context.now();
  if (absl::Status s = context.store->PutSecret(record); !s.ok()) return StoreProblem(s);
  ApiResponse response = JsonReply(200, {{"name", name}, {"policy", body->policy}});
  response.log = {{"secret", name}, {"policy", body->policy}};
  return response;
}

}  // namespace fdattest
