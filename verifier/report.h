// A verification result (verifier/verify.h) rendered for its readers: the
// readable report for people, the JSON report for programs, and the input of
// the EAR that carries the verdict to a relying party (verifier/ear.h).
// Pure functions of their arguments; thread-safe.
#ifndef FDATTEST_VERIFIER_REPORT_H_
#define FDATTEST_VERIFIER_REPORT_H_

#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"
#include "common/json.h"
#include "verifier/ear.h"
#include "verifier/policy.h"
#include "verifier/verify.h"

namespace fdattest {

std::string ReportText(const VerifyResult& result);
Json ReportJson(const VerifyResult& result);

// The EAR for a result: status tier by verdict, trust vector, the policy id,
// the nonce, `verifier_build` (common/build_info.h) as the verifier's build,
// and our per-rule results and digests as the private claim.
EarInput MakeEarInput(const VerifyResult& result, const Policy& policy, int64_t now,
                      int64_t lifetime_seconds, absl::string_view verifier_build);

}  // namespace fdattest

#endif  // FDATTEST_VERIFIER_REPORT_H_
