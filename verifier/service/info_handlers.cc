// The small routes: challenge, keys, health and metrics.
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/json.h"
#include "common/sha256.h"
#include "verifier/jose_key.h"
#include "verifier/service/handlers.h"
#include "verifier/service/metrics.h"
#include "verifier/service/nonce_budget.h"
#include "verifier/service/request_parsers.h"

namespace fdattest {
namespace {

constexpr size_t kNonceBytes = 32;

ApiResponse NotConfigured(absl::string_view what) {
  return Problem(503, "not-configured", "Service unavailable",
                 absl::StrCat("this verifier has no ", what));
}

}  // namespace


ApiResponse HandleChallenge(ServiceContext& context, const ApiRequest& request) {
  if (context.store == nullptr || context.nonces == nullptr) return NotConfigured("store");
  absl::StatusOr<ChallengeBody> body =
      ParseChallengeBody(request.body, context.limits.max_nonce_lifetime);
  if (!body.ok()) return ProblemFromStatus(body.status(), "bad-challenge");
  const int64_t now = context.now();
  const int64_t lifetime = body->lifetime.value_or(context.limits.nonce_lifetime);
  if (absl::Status admitted = context.nonces->Admit(now); !admitted.ok()) {
    if (admitted.code() != absl::StatusCode::kResourceExhausted) return StoreProblem(admitted);
    ApiResponse response = ProblemFromStatus(admitted, "nonce-store-full");
    response.headers.emplace_back("Retry-After", absl::StrCat(context.limits.retry_after));
    return response;
  }
  const std::string nonce = context.random(kNonceBytes);
  if (absl::Status s = context.store->AddNonce(nonce, now + lifetime); !s.ok()) {
    context.nonces->Return();
    return StoreProblem(s);
  }
  return JsonReply(200, {{"nonce", HexEncode(nonce)}, {"expires_at", now + lifetime}});
}

ApiResponse HandleKeys(ServiceContext& context, const ApiRequest& /*request*/) {
  if (context.signing_key == nullptr) return NotConfigured("signing key");
  absl::StatusOr<Json> jwk = ParseJsonStrict(context.signing_key->PublicJwkJson());
  if (!jwk.ok()) return ProblemFromStatus(absl::InternalError(jwk.status().message()), "internal");
  ApiResponse response = JsonReply(200, {{"keys", Json::array({*std::move(jwk)})}});
  response.content_type = "application/jwk-set+json";
  return response;
}

ApiResponse HandleHealth(ServiceContext& context, const ApiRequest& /*request*/) {
  if (context.store == nullptr) return NotConfigured("store");
  if (absl::StatusOr<int64_t> n = context.store->CountNonces(context.now()); !n.ok()) {
    return StoreProblem(n.status());
  }
  return JsonReply(200, {{"status", "ok"}});
}

ApiResponse HandleMetrics(ServiceContext& context, const ApiRequest& /*request*/) {
  if (context.metrics == nullptr) return NotConfigured("metrics");
  Metrics::Gauges gauges;
  if (context.nonces != nullptr) {
    absl::StatusOr<int64_t> n = context.nonces->Outstanding(context.now());
    if (n.ok()) gauges.nonces_outstanding = *n;
  }
  if (context.in_flight != nullptr) gauges.requests_in_flight = context.in_flight->load();
  ApiResponse response;
  response.content_type = "text/plain; version=0.0.4; charset=utf-8";
  response.body = context.metrics->Render(gauges);
  return response;
}

}  // namespace fdattest
