// The parsers of fdverifierd's small request bodies and query values (the
// evidence bundle and the policy document have their own: common/evidence.h,
// verifier/policy_model.h). Each is strict: unknown keys, wrong types and
// values out of range are InvalidArgument naming the field. Stateless;
// thread-safe.
#ifndef FDATTEST_VERIFIER_SERVICE_REQUEST_PARSERS_H_
#define FDATTEST_VERIFIER_SERVICE_REQUEST_PARSERS_H_

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "common/status.h"
#include "verifier/service/api.h"

namespace fdattest {

inline constexpr size_t kMaxSecretBytes = 64 * 1024;
inline constexpr size_t kMaxReleaseNames = 16;

// A policy id or secret name: 1..128 bytes of letters, digits, '.', '_' and
// '-', not starting with '.' or '-'.
bool IsValidName(absl::string_view name);
// An attestation result or attester id: 32 lowercase hex digits.
bool IsValidHexId(absl::string_view id);

// POST /v1/challenge: an empty body, `{}` or {"lifetime": SECONDS} with
// 1 <= SECONDS <= max_lifetime.
struct ChallengeBody {
  std::optional<int64_t> lifetime;
};
absl::StatusOr<ChallengeBody> ParseChallengeBody(absl::string_view body, int64_t max_lifetime);

// PUT /v1/secrets/{name}: {"value": "<base64 of 1..kMaxSecretBytes bytes>",
// "policy": "<policy id>"}. The decoded value is the secret's plaintext.
struct SecretBody {
  std::string value;
  std::string policy;
};
absl::StatusOr<SecretBody> ParseSecretBody(absl::string_view body);

// The `release` query value: NAME[,NAME...], 1..kMaxReleaseNames distinct
// valid names, in the order given.
absl::StatusOr<std::vector<std::string>> ParseReleaseList(absl::string_view value);

// POST /v1/attest's query (a repeated key: its last value): `policy`, a
// policy id, and `release`, a release list; at least one of them. Fills
// `out`, or returns the 400 problem: bad-policy-id, bad-release or
// policy-required.
struct AttestQuery {
  std::string policy_id;             // empty when not given
  std::vector<std::string> release;  // empty when not given
};
std::optional<ApiResponse> ParseAttestQuery(const std::map<std::string, std::string>& query,
                                            AttestQuery* out);

}  // namespace fdattest

#endif  // FDATTEST_VERIFIER_SERVICE_REQUEST_PARSERS_H_
