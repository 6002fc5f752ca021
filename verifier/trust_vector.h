// The policy's contribution to the EAR trustworthiness vector (AR4SI,
// draft-ietf-rats-ear): each claim's value from the results of the rules
// that bear on it (docs/policy.md "Trustworthiness vector"). Pure; thread-safe.
#ifndef FDATTEST_VERIFIER_TRUST_VECTOR_H_
#define FDATTEST_VERIFIER_TRUST_VECTOR_H_

#include <map>
#include <string>
#include <vector>

#include "verifier/rules.h"

namespace fdattest {

// Claim name -> AR4SI value: instance-identity <- R10; configuration <- R0,
// R8, R12; executables <- R13; file-system <- R1, R2, R7; sourced-data <- R1,
// R5. A claim is 2 when its rules pass, 96 when one fails or is fatally not
// evaluable, otherwise the claim's warning value (none for instance-identity,
// which is then omitted); a claim none of whose rules ran is omitted.
// storage-opaque is only ever 96 (R3 or R7 fails); runtime-opaque is never
// claimed. docs/policy.md has the table.
std::map<std::string, int> TrustVectorFromRules(const std::vector<RuleResult>& results);

}  // namespace fdattest

#endif  // FDATTEST_VERIFIER_TRUST_VECTOR_H_
