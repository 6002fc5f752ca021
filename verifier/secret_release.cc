#include "verifier/secret_release.h"

#include <algorithm>
#include <set>

#include "absl/strings/str_cat.h"

namespace fdattest {
namespace {

// Why `secret` is not released, or "" when it is.
std::string RefusalReason(const VerifyResult& result, const Policy& policy,
                          const BoundSecret& secret) {
  if (result.verdict != Verdict::kAffirming || !result.manifest.has_value()) {
    return absl::StrCat("verdict is ", VerdictName(result.verdict),
                        result.reason.empty() ? "" : absl::StrCat(": ", result.reason),
                        "; secrets are released only on an affirming verdict");
  }
  if (secret.policy_id != policy.id) {
    return absl::StrCat("bound to policy ", secret.policy_id, ", but the launch was judged under ",
                        policy.id);
  }
  if (std::find(policy.secrets.begin(), policy.secrets.end(), secret.name) ==
      policy.secrets.end()) {
    return absl::StrCat("policy ", policy.id, " does not list it in \"secrets\"");
  }
  const Manifest& m = *result.manifest;
  if (!m.release_key.has_value()) {
    return "the manifest carries no release_key to encrypt it to";
  }
  const bool declared = std::any_of(m.fds.begin(), m.fds.end(), [&](const FdFingerprint& fp) {
    return fp.secret.has_value() && *fp.secret == secret.name;
  });
  if (!declared) return "the manifest declares no fd for it";
  return "";
}

}  // namespace

ReleaseDecision ReleaseSecrets(const VerifyResult& result, const Policy& policy,
                               const std::vector<BoundSecret>& requested) {
  ReleaseDecision decision;
  std::set<std::string> seen;
  for (const BoundSecret& secret : requested) {
    if (!seen.insert(secret.name).second) continue;
    std::string why = RefusalReason(result, policy, secret);
    if (why.empty()) {
      decision.released.push_back(secret.name);
    } else {
      decision.refused[secret.name] = std::move(why);
    }
  }
  return decision;
}

}  // namespace fdattest
