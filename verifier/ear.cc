#include "verifier/ear.h"

#include <algorithm>
#include <array>
#include <initializer_list>
#include <limits>

#include "absl/strings/str_cat.h"

namespace fdattest {
namespace {

constexpr std::array<absl::string_view, 8> kTrustClaimNames = {
    kTrustInstanceIdentity, kTrustConfiguration, kTrustExecutables,   kTrustFileSystem,
    kTrustHardware,         kTrustRuntimeOpaque, kTrustStorageOpaque, kTrustSourcedData};
constexpr absl::string_view kJwtTyp = "JWT";
constexpr size_t kMaxEarBytes = 1 << 20;

absl::Status Invalid(absl::string_view where, absl::string_view message) {
  return absl::InvalidArgumentError(absl::StrCat(where, ": ", message));
}

// Every member of `object` is one of `allowed`.
absl::Status CheckKeys(const Json& object, std::initializer_list<absl::string_view> allowed,
                       absl::string_view where) {
  for (auto it = object.begin(); it != object.end(); ++it) {
    if (std::find(allowed.begin(), allowed.end(), it.key()) == allowed.end()) {
      return Invalid(where, absl::StrCat("unknown claim \"", it.key(), "\""));
    }
  }
  return absl::OkStatus();
}

absl::Status CheckTrustVectorEntry(absl::string_view name, int64_t value, absl::string_view where) {
  if (!IsTrustClaimName(name)) {
    return Invalid(where, absl::StrCat("\"", name, "\" is not an AR4SI trust claim"));
  }
  if (value < -128 || value > 127) {
    return Invalid(where, absl::StrCat("\"", name, "\" = ", value, " is outside -128..127"));
  }
  return absl::OkStatus();
}

// `status` may not be better (lower tier) than any claim's tier.
absl::Status CheckStatusCoversClaims(EarStatus status, absl::string_view worst_name,
                                     int worst_value, absl::string_view where) {
  EarStatus tier = TrustClaimTier(worst_value);
  if (EarStatusTier(status) < EarStatusTier(tier)) {
    return Invalid(where, absl::StrCat("ear_status \"", EarStatusName(status),
                                       "\" is better than the trust vector's \"", worst_name,
                                       "\" = ", worst_value, " (", EarStatusName(tier), ")"));
  }
  return absl::OkStatus();
}

absl::StatusOr<EarStatus> ReadStatus(const Json& value, absl::string_view where) {
  if (!value.is_string()) return Invalid(where, "ear_status must be a string");
  auto status = ParseEarStatus(value.get<std::string>());
  if (!status.ok()) return Invalid(where, status.status().message());
  return *status;
}

absl::Status CheckNonce(const Json& value, absl::string_view where) {
  if (!value.is_string()) return Invalid(where, "eat_nonce must be a string");
  auto raw = Base64UrlDecode(value.get<std::string>());
  if (!raw.ok()) return Invalid(where, absl::StrCat("eat_nonce: ", raw.status().message()));
  if (raw->size() < kEatNonceMinBytes || raw->size() > kEatNonceMaxBytes) {
    return Invalid(where, absl::StrCat("eat_nonce is ", raw->size(), " bytes, not 8..64"));
  }
  return absl::OkStatus();
}

absl::StatusOr<EarStatus> CheckAppraisal(const Json& appraisal, const std::string& where) {
  if (!appraisal.is_object()) return Invalid(where, "must be an object");
  RETURN_IF_ERROR(CheckKeys(appraisal,
                            {"ear_status", "ear_trustworthiness_vector", "ear_appraisal_policy_ids",
                             "eat_nonce", "eat_profile"},
                            where));
  auto status_it = appraisal.find("ear_status");
  if (status_it == appraisal.end()) return Invalid(where, "missing ear_status");
  ASSIGN_OR_RETURN(EarStatus status, ReadStatus(*status_it, where));
  if (auto tv = appraisal.find("ear_trustworthiness_vector"); tv != appraisal.end()) {
    const std::string tv_where = absl::StrCat(where, ".ear_trustworthiness_vector");
    if (!tv->is_object()) return Invalid(tv_where, "must be an object");
    for (auto it = tv->begin(); it != tv->end(); ++it) {
      if (!it->is_number_integer())
        return Invalid(tv_where, absl::StrCat("\"", it.key(), "\" must be an integer"));
      if (it->is_number_unsigned() && it->get<uint64_t>() > 127) {
        return Invalid(tv_where, absl::StrCat("\"", it.key(), "\" is outside -128..127"));
      }
      const int64_t value = it->get<int64_t>();
      RETURN_IF_ERROR(CheckTrustVectorEntry(it.key(), value, tv_where));
      RETURN_IF_ERROR(CheckStatusCoversClaims(status, it.key(), static_cast<int>(value), where));
    }
  }
  if (auto ids = appraisal.find("ear_appraisal_policy_ids"); ids != appraisal.end()) {
    if (!ids->is_array() || ids->empty())
      return Invalid(where, "ear_appraisal_policy_ids must be a non-empty array");
    for (const Json& id : *ids) {
      if (!id.is_string() || id.get<std::string>().empty()) {
        return Invalid(where, "ear_appraisal_policy_ids entries must be non-empty strings");
      }
    }
  }
  if (auto nonce = appraisal.find("eat_nonce"); nonce != appraisal.end()) {
    RETURN_IF_ERROR(CheckNonce(*nonce, where));
  }
  if (auto profile = appraisal.find("eat_profile");
      profile != appraisal.end() && !profile->is_string()) {
    return Invalid(where, "eat_profile must be a string");
  }
  return status;
}

const Json* Member(const Json& object, absl::string_view key) {
  auto it = object.find(std::string(key));
  return it == object.end() ? nullptr : &*it;
}

absl::StatusOr<int64_t> ReadTime(const Json& claims, absl::string_view name) {
  const Json* v = Member(claims, name);
  if (v == nullptr) return Invalid("EAR", absl::StrCat("missing ", name));
  if (!v->is_number_integer() ||
      (v->is_number_unsigned() &&
       v->get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))) {
    return Invalid("EAR", absl::StrCat(name, " must be an integer"));
  }
  return v->get<int64_t>();
}

}  // namespace

absl::string_view EarStatusName(EarStatus status) {
  switch (status) {
    case EarStatus::kNone:
      return "none";
    case EarStatus::kAffirming:
      return "affirming";
    case EarStatus::kWarning:
      return "warning";
    case EarStatus::kContraindicated:
      return "contraindicated";
  }
  return "invalid";
}

int EarStatusTier(EarStatus status) {
  switch (status) {
    case EarStatus::kNone:
      return 0;
    case EarStatus::kAffirming:
      return 2;
    case EarStatus::kWarning:
      return 32;
    case EarStatus::kContraindicated:
      return 96;
  }
  return -1;
}

absl::StatusOr<EarStatus> ParseEarStatus(absl::string_view name) {
  for (EarStatus s : {EarStatus::kNone, EarStatus::kAffirming, EarStatus::kWarning,
                      EarStatus::kContraindicated}) {
    if (EarStatusName(s) == name) return s;
  }
  return absl::InvalidArgumentError(absl::StrCat("\"", name, "\" is not an EAR status"));
}

EarStatus TrustClaimTier(int value) {
  if (value >= -1 && value <= 1) return EarStatus::kNone;
  if ((value >= 2 && value <= 31) || (value >= -32 && value <= -2)) return EarStatus::kAffirming;
  if ((value >= 32 && value <= 95) || (value >= -96 && value <= -33)) return EarStatus::kWarning;
  return EarStatus::kContraindicated;
}

bool IsTrustClaimName(absl::string_view name) {
  return std::find(kTrustClaimNames.begin(), kTrustClaimNames.end(), name) !=
         kTrustClaimNames.end();
}

absl::Status ValidateEarInput(const EarInput& in) {
  constexpr absl::string_view kWhere = "EAR input";
  if (EarStatusTier(in.status) < 0) return Invalid(kWhere, "status is not an EAR status");
  for (const auto& [name, value] : in.trust_vector) {
    RETURN_IF_ERROR(CheckTrustVectorEntry(name, value, "EAR input trust vector"));
    RETURN_IF_ERROR(CheckStatusCoversClaims(in.status, name, value, kWhere));
  }
  for (const std::string& id : in.policy_ids) {
    if (id.empty()) return Invalid(kWhere, "empty policy id");
  }
  if (in.nonce.size() > kEatNonceMaxBytes) {
    return Invalid(kWhere, absl::StrCat("nonce is ", in.nonce.size(), " bytes; at most 64"));
  }
  if (in.issued_at <= 0) return Invalid(kWhere, "issued_at must be a positive unix time");
  if (in.expires_at != 0 && in.expires_at <= in.issued_at) {
    return Invalid(kWhere, "expires_at must be after issued_at (or 0 for no exp)");
  }
  if (in.verifier_build.empty()) return Invalid(kWhere, "verifier_build is empty");
  if (in.submod.empty()) return Invalid(kWhere, "submod label is empty");
  if (!in.private_claims.is_null()) {
    if (!in.private_claims.is_object()) return Invalid(kWhere, "private_claims must be an object");
    if (Member(in.private_claims, kEarShortNonceKey) != nullptr) {
      return Invalid(kWhere, absl::StrCat("private claim \"", kEarShortNonceKey, "\" is reserved"));
    }
    auto text = CanonicalJson(in.private_claims);
    if (!text.ok())
      return Invalid(kWhere, absl::StrCat("private_claims: ", text.status().message()));
  }
  return absl::OkStatus();
}

Json EarClaims(const EarInput& in) {
  Json appraisal = {{"ear_status", std::string(EarStatusName(in.status))}};
  if (!in.trust_vector.empty()) {
    Json tv = Json::object();
    for (const auto& [name, value] : in.trust_vector) tv[name] = value;
    appraisal["ear_trustworthiness_vector"] = tv;
  }
  if (!in.policy_ids.empty()) appraisal["ear_appraisal_policy_ids"] = in.policy_ids;

  Json claims = {
      {"eat_profile", std::string(kEarProfile)},
      {"iat", in.issued_at},
      {"ear_verifier_id",
       {{"developer", std::string(kEarDeveloper)}, {"build", in.verifier_build}}},
      {"ear_status", std::string(EarStatusName(in.status))},
  };
  if (in.expires_at != 0) claims["exp"] = in.expires_at;

  Json private_claims = in.private_claims;
  if (in.nonce.size() >= kEatNonceMinBytes) {
    // The relying party's nonce is both the evidence nonce the TPM quoted
    // (submod) and this result's freshness (top level).
    const std::string nonce = Base64UrlEncode(in.nonce);
    claims["eat_nonce"] = nonce;
    appraisal["eat_nonce"] = nonce;
  } else if (!in.nonce.empty()) {
    // eat_nonce needs at least 8 bytes; never pad (that would be a different
    // nonce), carry it privately instead.
    if (private_claims.is_null()) private_claims = Json::object();
    private_claims[std::string(kEarShortNonceKey)] = Base64UrlEncode(in.nonce);
  }
  if (!private_claims.is_null()) claims[std::string(kEarPrivateClaim)] = private_claims;
  claims["submods"] = {{in.submod, appraisal}};
  return claims;
}

absl::StatusOr<std::string> IssueEar(const EarInput& in, const SigningKey& key) {
  RETURN_IF_ERROR(ValidateEarInput(in));
  ASSIGN_OR_RETURN(std::string payload, CanonicalJson(EarClaims(in)));
  return key.SignCompact(payload, kJwtTyp);
}

absl::StatusOr<Json> VerifyEar(absl::string_view token, absl::string_view public_jwk_json) {
  ASSIGN_OR_RETURN(std::string payload, VerifyCompactJws(token, public_jwk_json));
  ASSIGN_OR_RETURN(const Json claims,
                   ParseJsonStrict(payload, {.max_bytes = kMaxEarBytes, .max_depth = 32}));
  if (!claims.is_object()) return Invalid("EAR", "claims-set is not a JSON object");
  RETURN_IF_ERROR(CheckKeys(claims,
                            {"eat_profile", "iat", "exp", "ear_verifier_id", "ear_status",
                             "eat_nonce", "submods", "ear_raw_evidence", kEarPrivateClaim},
                            "EAR"));

  const Json* profile = Member(claims, "eat_profile");
  if (profile == nullptr || !profile->is_string() || profile->get<std::string>() != kEarProfile) {
    return Invalid("EAR", absl::StrCat("eat_profile must be \"", kEarProfile, "\""));
  }
  ASSIGN_OR_RETURN(int64_t iat, ReadTime(claims, "iat"));
  if (iat <= 0) return Invalid("EAR", "iat must be positive");
  if (Member(claims, "exp") != nullptr) {
    ASSIGN_OR_RETURN(int64_t exp, ReadTime(claims, "exp"));
    if (exp <= iat) return Invalid("EAR", "exp is not after iat");
  }

  const Json* verifier_id = Member(claims, "ear_verifier_id");
  if (verifier_id == nullptr) return Invalid("EAR", "missing ear_verifier_id");
  JsonFields id(*verifier_id, "EAR ear_verifier_id");
  id.String("developer", true);
  id.String("build", true);
  RETURN_IF_ERROR(id.Finish());

  const Json* submods = Member(claims, "submods");
  if (submods == nullptr) return Invalid("EAR", "missing submods");
  if (!submods->is_object() || submods->empty()) {
    return Invalid("EAR", "submods must be a non-empty object");
  }
  EarStatus worst = EarStatus::kNone;
  for (auto it = submods->begin(); it != submods->end(); ++it) {
    ASSIGN_OR_RETURN(EarStatus status, CheckAppraisal(*it, absl::StrCat("EAR submods.", it.key())));
    if (EarStatusTier(status) > EarStatusTier(worst)) worst = status;
  }
  if (const Json* overall_json = Member(claims, "ear_status")) {
    ASSIGN_OR_RETURN(EarStatus overall, ReadStatus(*overall_json, "EAR"));
    if (EarStatusTier(overall) < EarStatusTier(worst)) {
      return Invalid("EAR",
                     absl::StrCat("ear_status \"", EarStatusName(overall),
                                  "\" is better than a submod's \"", EarStatusName(worst), "\""));
    }
  }
  if (const Json* nonce = Member(claims, "eat_nonce")) RETURN_IF_ERROR(CheckNonce(*nonce, "EAR"));
  if (const Json* raw = Member(claims, "ear_raw_evidence"); raw != nullptr && !raw->is_string()) {
    return Invalid("EAR", "ear_raw_evidence must be a string");
  }
  if (const Json* extra = Member(claims, kEarPrivateClaim);
      extra != nullptr && !extra->is_object()) {
    return Invalid("EAR", absl::StrCat(kEarPrivateClaim, " must be an object"));
  }
  return claims;
}

absl::Status CheckEarFreshness(const Json& claims, int64_t now, int64_t max_skew_seconds) {
  ASSIGN_OR_RETURN(int64_t iat, ReadTime(claims, "iat"));
  if (now < iat - max_skew_seconds) {
    return absl::FailedPreconditionError(
        absl::StrCat("EAR issued at ", iat, ", in the future of now (", now, ")"));
  }
  if (Member(claims, "exp") != nullptr) {
    ASSIGN_OR_RETURN(int64_t exp, ReadTime(claims, "exp"));
    if (now >= exp) {
      return absl::FailedPreconditionError(
          absl::StrCat("EAR expired at ", exp, " (now ", now, ")"));
    }
  }
  return absl::OkStatus();
}

}  // namespace fdattest
