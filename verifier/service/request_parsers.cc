#include "verifier/service/request_parsers.h"

#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/base64.h"
#include "common/json.h"
#include "common/sha256.h"

namespace fdattest {
namespace {

constexpr size_t kMaxNameBytes = 128;
// The small bodies: a secret of kMaxSecretBytes in base64 and some room.
constexpr size_t kMaxSmallBodyBytes = kMaxSecretBytes * 4 / 3 + 4096;

absl::StatusOr<Json> ParseObject(absl::string_view body, absl::string_view what) {
  JsonLimits limits;
  limits.max_bytes = kMaxSmallBodyBytes;
  limits.max_depth = 4;
  limits.max_values = 64;
  absl::StatusOr<Json> json = ParseJsonStrict(body, limits);
  if (!json.ok()) return absl::InvalidArgumentError(absl::StrCat(what, ": ", json.status().message()));
  if (!json->is_object()) return absl::InvalidArgumentError(absl::StrCat(what, " must be a JSON object"));
  return json;
}

}  // namespace

bool IsValidName(absl::string_view name) {
  if (name.empty() || name.size() > kMaxNameBytes) return false;
  if (name.front() == '.' || name.front() == '-') return false;
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

bool IsValidHexId(absl::string_view id) { return id.size() == 32 && IsLowerHex(id); }

absl::StatusOr<ChallengeBody> ParseChallengeBody(absl::string_view body, int64_t max_lifetime) {
  ChallengeBody out;
  if (body.empty()) return out;
  ASSIGN_OR_RETURN(Json json, ParseObject(body, "challenge request"));
  JsonFields fields(json, "challenge request");
  out.lifetime = fields.Int("lifetime", false, 1, max_lifetime);
  RETURN_IF_ERROR(fields.Finish());
  return out;
}

absl::StatusOr<SecretBody> ParseSecretBody(absl::string_view body) {
  ASSIGN_OR_RETURN(Json json, ParseObject(body, "secret"));
  JsonFields fields(json, "secret");
  std::optional<std::string> value = fields.String("value", true);
  std::optional<std::string> policy = fields.String("policy", true);
  RETURN_IF_ERROR(fields.Finish());
  SecretBody out;
  absl::StatusOr<std::string> decoded = Base64Decode(*value);
  if (!decoded.ok()) return absl::InvalidArgumentError("secret.value is not standard base64");
  if (decoded->empty() || decoded->size() > kMaxSecretBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("secret.value must decode to 1..", kMaxSecretBytes, " bytes"));
  }
  if (!IsValidName(*policy)) return absl::InvalidArgumentError("secret.policy is not a policy id");
  out.value = *std::move(decoded);
  out.policy = *std::move(policy);
  return out;
}

absl::StatusOr<std::vector<std::string>> ParseReleaseList(absl::string_view value) {
  std::vector<std::string> names;
  std::set<std::string, std::less<>> seen;
  for (absl::string_view name : absl::StrSplit(value, ',')) {
    if (!IsValidName(name)) {
      return absl::InvalidArgumentError("release: each name must be 1..128 of [A-Za-z0-9._-]");
    }
    if (!seen.insert(std::string(name)).second) {
      return absl::InvalidArgumentError("release: a secret is named twice");
    }
    if (names.size() == kMaxReleaseNames) {
      return absl::InvalidArgumentError(
          absl::StrCat("release: at most ", kMaxReleaseNames, " secrets per attestation"));
    }
    names.emplace_back(name);
  }
  return names;
}

std::optional<ApiResponse> ParseAttestQuery(const std::map<std::string, std::string>& query,
                                            AttestQuery* out) {
  *out = AttestQuery();
  if (auto it = query.find("policy"); it != query.end()) {
    if (!IsValidName(it->second)) {
      return Problem(400, "bad-policy-id", "Bad request", "policy is not a policy id");
    }
    out->policy_id = it->second;
  }
  if (auto it = query.find("release"); it != query.end()) {
    absl::StatusOr<std::vector<std::string>> names = ParseReleaseList(it->second);
    if (!names.ok()) return Problem(400, "bad-release", "Bad request", names.status().message());
    out->release = *std::move(names);
  }
  if (out->policy_id.empty() && out->release.empty()) {
    return Problem(400, "policy-required", "Bad request",
                   "name the policy (?policy=ID) or the secrets to release (?release=NAME)");
  }
  return std::nullopt;
}

}  // namespace fdattest
