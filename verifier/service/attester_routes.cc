#include "verifier/service/attester_routes.h"

#include <openssl/crypto.h>

#include <optional>
#include <string>

#include "absl/strings/str_cat.h"
#include "common/base64.h"
#include "common/json.h"
#include "common/sha256.h"
#include "verifier/enrollment.h"
#include "verifier/service/attester_parsers.h"

namespace fdattest {
namespace {

ApiResponse BadRequest(absl::string_view detail) {
  return Problem(400, "bad-request", "Bad request", detail);
}

// nullopt when `role` may call a route that needs `needed`.
std::optional<ApiResponse> CheckRole(const ApiRequest& request, Role needed) {
  const Role role = request.role;
  const bool allowed = needed == Role::kNone || role == Role::kAdmin ||
                       (needed == Role::kAuditor && role == Role::kAuditor);
  if (allowed) return std::nullopt;
  if (role == Role::kNone) {
    return Problem(401, "client-certificate-required", "Client certificate required",
                   absl::StrCat("this route needs a client certificate of role ",
                                RoleName(needed)));
  }
  return Problem(403, "role-forbidden", "Forbidden",
                 absl::StrCat("this route needs role ", RoleName(needed),
                              needed == Role::kAuditor ? " or admin" : "",
                              "; the client certificate has role ", RoleName(role)));
}

// The {id} path parameter: 32 lowercase hex digits, or 404 (an id of another
// shape names no attester).
std::optional<ApiResponse> CheckId(const ApiRequest& request, std::string* id) {
  auto it = request.path_params.find("id");
  if (it == request.path_params.end() || it->second.size() != 32 || !IsLowerHex(it->second)) {
    return Problem(404, "unknown-attester", "Not found", "no such attester");
  }
  *id = it->second;
  return std::nullopt;
}

// A refusal the caller can act on keeps its problem type; the store (or
// anything else of ours) failing is 503 store-unavailable, or 500 internal
// for a failure the enrollment named as ours.
bool IsServiceFailure(const absl::Status& status) {
  switch (status.code()) {
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kUnauthenticated:
    case absl::StatusCode::kPermissionDenied:
    case absl::StatusCode::kNotFound:
    case absl::StatusCode::kAlreadyExists:
    case absl::StatusCode::kFailedPrecondition:
      return false;
    default:
      return true;
  }
}

ApiResponse EnrollmentFailure(const absl::Status& status) {
  if (IsServiceFailure(status) && EnrollmentProblem(status, "").empty()) return StoreProblem(status);
  return ProblemFromStatus(status, EnrollmentProblem(status, "internal"));
}

ApiResponse StoreFailure(const absl::Status& status, absl::string_view type) {
  if (IsServiceFailure(status)) return StoreProblem(status);
  return ProblemFromStatus(status, type);
}

}  // namespace

Json AttesterJson(const AttesterRecord& r) {
  return Json{{"id", r.id},
              {"state", std::string(AttesterStateName(r.state))},
              {"tenant", r.tenant},
              {"ek_sha256", r.ek_sha256},
              {"ek_certificate", Base64Encode(r.ek_certificate)},
              {"ak_public", Base64Encode(r.ak_public)},
              {"ak_name", r.ak_name},
              {"created_at", r.created_at},
              {"activated_at", r.activated_at},
              {"revoked_at", r.revoked_at}};
}

ApiResponse HandleEnroll(ServiceContext& context, const ApiRequest& request) {
  if (std::optional<ApiResponse> refused = CheckRole(request, Role::kNone)) return *refused;
  absl::StatusOr<EnrollBody> body = ParseEnrollBody(request.body);
  if (!body.ok()) return BadRequest(body.status().message());
  absl::StatusOr<EnrollmentChallenge> challenge =
      StartEnrollment(context, body->ek_certificate, body->ak_public, body->replace,
                      request.role == Role::kAdmin, body->tenant);
  if (!challenge.ok()) return EnrollmentFailure(challenge.status());
  return JsonReply(200, Json{{"id", challenge->id},
                             {"state", "pending"},
                             {"ak_name", HexEncode(challenge->ak_name)},
                             {"credential_blob", Base64Encode(challenge->credential_blob)},
                             {"encrypted_secret", Base64Encode(challenge->encrypted_secret)}});
}

ApiResponse HandleActivate(ServiceContext& context, const ApiRequest& request) {
  if (std::optional<ApiResponse> refused = CheckRole(request, Role::kNone)) return *refused;
  std::string id;
  if (std::optional<ApiResponse> refused = CheckId(request, &id)) return *refused;
  absl::StatusOr<std::string> secret = ParseActivateBody(request.body);
  if (!secret.ok()) return BadRequest(secret.status().message());
  absl::StatusOr<AttesterRecord> record = FinishEnrollment(context, id, *secret);
  OPENSSL_cleanse(secret->data(), secret->size());
  if (!record.ok()) return EnrollmentFailure(record.status());
  return JsonReply(200, Json{{"id", record->id},
                             {"state", std::string(AttesterStateName(record->state))}});
}

ApiResponse HandleGetAttester(ServiceContext& context, const ApiRequest& request) {
  if (std::optional<ApiResponse> refused = CheckRole(request, Role::kAuditor)) return *refused;
  std::string id;
  if (std::optional<ApiResponse> refused = CheckId(request, &id)) return *refused;
  if (context.store == nullptr) return StoreProblem(absl::InternalError("no store"));
  absl::StatusOr<AttesterRecord> record = context.store->GetAttester(id);
  if (!record.ok()) return StoreFailure(record.status(), "unknown-attester");
  return JsonReply(200, AttesterJson(*record));
}

ApiResponse HandleRevokeAttester(ServiceContext& context, const ApiRequest& request) {
  if (std::optional<ApiResponse> refused = CheckRole(request, Role::kAdmin)) return *refused;
  std::string id;
  if (std::optional<ApiResponse> refused = CheckId(request, &id)) return *refused;
  if (context.store == nullptr || !context.now) return StoreProblem(absl::InternalError("no store"));
  absl::Status revoked = context.store->RevokeAttester(id, context.now());
  if (!revoked.ok()) return StoreFailure(revoked, "unknown-attester");
  return JsonReply(200, Json{{"id", id}, {"state", "revoked"}});
}

}  // namespace fdattest
