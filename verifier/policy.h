// The data-flow policy engine as the verification pipeline (verifier/verify.h)
// uses it, step 8: the policy and its parser (policy_model.h), the signed
// endpoint registry (endpoint_registry.h), the rules R0..R14 (rules.h) and
// their trustworthiness-vector contribution (trust_vector.h). Code that needs
// only one of these parts includes that part's header. Every part is
// immutable values and pure functions; thread-safe.
#ifndef FDATTEST_VERIFIER_POLICY_H_
#define FDATTEST_VERIFIER_POLICY_H_

#include "verifier/endpoint_registry.h"  // IWYU pragma: export
#include "verifier/policy_model.h"       // IWYU pragma: export
#include "verifier/rules.h"              // IWYU pragma: export
#include "verifier/trust_vector.h"       // IWYU pragma: export

#endif  // FDATTEST_VERIFIER_POLICY_H_
