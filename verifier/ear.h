// EAR attestation results (draft-ietf-rats-ear-03, AR4SI trust vectors): the
// claims-set fdattest's verifier issues and the ES256-signed JWT that carries
// it (media type kEarMediaType). Token layout, claims and verification with
// the jose CLI: docs/ear.md. Signing and JWS checks are in verifier/jose_key.h.
// Stateless functions; thread-safe.
#ifndef FDATTEST_VERIFIER_EAR_H_
#define FDATTEST_VERIFIER_EAR_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "common/json.h"
#include "common/status.h"
#include "verifier/jose_key.h"

namespace fdattest {

inline constexpr absl::string_view kEarProfile = "tag:ietf.org,2026:rats/ear#03";
inline constexpr absl::string_view kEarMediaType =
    "application/eat-jwt; eat_profile=\"tag:ietf.org,2026:rats/ear#03\"";
inline constexpr absl::string_view kEarDeveloper = "fdattest";  // ear_verifier_id.developer
inline constexpr absl::string_view kEarPrivateClaim = "ear_x_fdattest";
// Under kEarPrivateClaim: the nonce (base64url) when it is 1..7 bytes, too
// short for eat_nonce (8..64). Reserved: private_claims may not use it.
inline constexpr absl::string_view kEarShortNonceKey = "nonce";
inline constexpr size_t kEatNonceMinBytes = 8;
inline constexpr size_t kEatNonceMaxBytes = 64;

// Trustworthiness tiers; the JSON form is the name ("affirming").
enum class EarStatus { kNone, kAffirming, kWarning, kContraindicated };  // tiers 0/2/32/96
absl::string_view EarStatusName(EarStatus status);
int EarStatusTier(EarStatus status);  // 0, 2, 32, 96
absl::StatusOr<EarStatus> ParseEarStatus(absl::string_view name);
// The tier an AR4SI claim value (-128..127) falls in: none -1..1, affirming
// ±2..31 (-32..-2), warning 32..95 (-96..-33), contraindicated the rest.
EarStatus TrustClaimTier(int value);

// AR4SI trust vector claim names (the JSON keys of ear_trustworthiness_vector).
inline constexpr absl::string_view kTrustInstanceIdentity = "instance-identity";
inline constexpr absl::string_view kTrustConfiguration = "configuration";
inline constexpr absl::string_view kTrustExecutables = "executables";
inline constexpr absl::string_view kTrustFileSystem = "file-system";
inline constexpr absl::string_view kTrustHardware = "hardware";
inline constexpr absl::string_view kTrustRuntimeOpaque = "runtime-opaque";
inline constexpr absl::string_view kTrustStorageOpaque = "storage-opaque";
inline constexpr absl::string_view kTrustSourcedData = "sourced-data";
bool IsTrustClaimName(absl::string_view name);

// AR4SI claim values (veraison/ear trustclaim.go names).
namespace ar4si {
inline constexpr int kVerifierMalfunction = -1;
inline constexpr int kNoClaim = 0;
inline constexpr int kUnexpectedEvidence = 1;
inline constexpr int kCryptoValidationFailed = 99;  // any claim
inline constexpr int kInstanceTrustworthy = 2;
inline constexpr int kInstanceUntrustworthy = 96;
inline constexpr int kInstanceUnrecognized = 97;
inline constexpr int kConfigApproved = 2;
inline constexpr int kConfigNoKnownVulns = 3;
inline constexpr int kConfigUnsafe = 32;
inline constexpr int kConfigUnsupportable = 96;
inline constexpr int kExecutablesApprovedRuntime = 2;
inline constexpr int kExecutablesApprovedBoot = 3;
inline constexpr int kExecutablesUnsafe = 32;
inline constexpr int kExecutablesUnrecognized = 33;
inline constexpr int kExecutablesContraindicated = 96;
inline constexpr int kFileSystemApproved = 2;
inline constexpr int kFileSystemUnrecognized = 32;
inline constexpr int kFileSystemContraindicated = 96;
inline constexpr int kHardwareGenuine = 2;
inline constexpr int kHardwareUnsafe = 32;
inline constexpr int kHardwareContraindicated = 96;
inline constexpr int kHardwareUnrecognized = 97;
}  // namespace ar4si

struct EarInput {
  EarStatus status = EarStatus::kNone;
  std::map<std::string, int> trust_vector;  // AR4SI claim name -> value
  std::vector<std::string> policy_ids;      // ear_appraisal_policy_ids, in order applied
  std::string nonce;                        // raw bytes, may be empty
  int64_t issued_at = 0;                    // unix seconds
  int64_t expires_at = 0;                   // unix seconds; 0 = no exp
  std::string verifier_build;               // e.g. "fdattest 0.5.0"
  Json private_claims;                      // goes under "ear_x_fdattest" (object; null = none)
  std::string submod = "fdattest";
};

// InvalidArgument unless: trust vector names are AR4SI names and values are
// in -128..127; `status` is no better than the worst trust vector claim's
// tier (a result cannot say "affirming" next to a contraindicated claim);
// policy ids are non-empty strings; the nonce is at most 64 bytes;
// issued_at > 0 and expires_at is 0 or later; verifier_build and submod are
// non-empty; private_claims is null or an object without floats and without
// kEarShortNonceKey.
absl::Status ValidateEarInput(const EarInput& in);

// The JWT claims-set for valid input (IssueEar validates first):
// eat_profile, iat, exp (when set), ear_verifier_id, ear_status (= the
// submod's), eat_nonce (8..64-byte nonces, also in the submod), submods
// {submod: {ear_status, ear_trustworthiness_vector, ear_appraisal_policy_ids}},
// ear_x_fdattest (private_claims, plus the short nonce if any).
Json EarClaims(const EarInput& in);

// Validates, then signs the canonical claims-set: compact JWS with protected
// header {"alg":"ES256","kid":key.kid(),"typ":"JWT"}. Serve it as
// kEarMediaType.
absl::StatusOr<std::string> IssueEar(const EarInput& in, const SigningKey& key);

// Verifies the signature with `public_jwk_json` (VerifyCompactJws: ES256 and
// the caller's key only), then checks the claims-set: eat_profile is
// kEarProfile, iat a positive integer, exp (if any) after iat,
// ear_verifier_id {developer, build}, submods non-empty with a valid
// ear_status each, trust vectors with AR4SI names and -128..127 values,
// eat_nonce 8..64 bytes of base64url, overall ear_status no better than the
// worst submod, no unknown claims. Returns the claims. The clock is not
// consulted: see CheckEarFreshness.
absl::StatusOr<Json> VerifyEar(absl::string_view token, absl::string_view public_jwk_json);

// For verified claims: FailedPrecondition if `now` (unix seconds) is at or
// after exp, or more than `max_skew_seconds` before iat.
absl::Status CheckEarFreshness(const Json& claims, int64_t now, int64_t max_skew_seconds = 60);

}  // namespace fdattest

#endif  // FDATTEST_VERIFIER_EAR_H_
