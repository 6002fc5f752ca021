// fdverifierd's route handlers, each a function from (context, request) to
// response (verifier/service/api.h); routes.h puts them in the route table
// and docs/openapi.yaml describes them. The enrollment routes are in
// verifier/service/attester_routes.h. Thread-safe: handlers share only the
// context's thread-safe pointees.
#ifndef FDATTEST_VERIFIER_SERVICE_HANDLERS_H_
#define FDATTEST_VERIFIER_SERVICE_HANDLERS_H_

#include <string>

#include "absl/strings/string_view.h"
#include "common/status.h"
#include "verifier/service/api.h"

namespace fdattest {

// POST /v1/challenge: a fresh single-use nonce (429 when the cap on
// outstanding nonces is reached).
ApiResponse HandleChallenge(ServiceContext& context, const ApiRequest& request);
// POST /v1/attest?policy=ID&release=NAMES: the evidence through Verify()
// (verifier/verify.h), the result recorded, signed as an EAR, and the
// requested secrets released or refused (attest_handler.cc says how).
ApiResponse HandleAttest(ServiceContext& context, const ApiRequest& request);
// GET /v1/attestations/{id}: a recorded result, never with secrets.
ApiResponse HandleGetAttestation(ServiceContext& context, const ApiRequest& request);
// PUT /v1/policies/{id} (admin): a new version of a policy, validated first.
ApiResponse HandlePutPolicy(ServiceContext& context, const ApiRequest& request);
// GET /v1/policies/{id}[?version=N] (auditor): the policy's exact bytes.
ApiResponse HandleGetPolicy(ServiceContext& context, const ApiRequest& request);
// PUT /v1/secrets/{name} (admin): a secret, sealed at rest, bound to a policy.
ApiResponse HandlePutSecret(ServiceContext& context, const ApiRequest& request);
// GET /.well-known/fdattest-keys: the JWKS of the EAR signing key.
ApiResponse HandleKeys(ServiceContext& context, const ApiRequest& request);
// GET /healthz: 200 while the store answers, else 503.
ApiResponse HandleHealth(ServiceContext& context, const ApiRequest& request);
// GET /metrics: verifier/service/metrics.h.
ApiResponse HandleMetrics(ServiceContext& context, const ApiRequest& request);


}  // namespace fdattest

#endif  // FDATTEST_VERIFIER_SERVICE_HANDLERS_H_
