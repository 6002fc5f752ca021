// libFuzzer target for what fdverifierd reads from a request before any
// handler logic: the path routing (verifier/service/router.h) and the body
// and query parsers (verifier/service/request_parsers.h), plus the policy
// parser a PUT /v1/policies body goes through and the problem documents
// that quote client input. The first byte picks the target, the rest is its
// input. Aborts when an accepted input breaks what the callers rely on: a
// routed path is exactly its pattern with its parameters put back, every
// parameter is a valid segment; accepted bodies hold values in range; a
// problem document is always JSON whatever bytes its detail quotes; the
// enrollment and activation bodies (verifier/service/attester_parsers.h)
// decode to non-empty values that re-encode to what was sent; the attest
// query gives a valid policy id or release list, or one of its three problems.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <optional>
#include <set>
#include <string>

#include "absl/strings/str_split.h"
#include "common/json.h"
#include "common/base64.h"
#include "verifier/policy_model.h"
#include "verifier/service/api.h"
#include "verifier/service/attester_parsers.h"
#include "verifier/service/request_parsers.h"
#include "verifier/service/router.h"

namespace fdattest {
namespace {

void Check(bool ok, const char* what) {
  if (!ok) {
    fprintf(stderr, "service_request_fuzzer: invariant violated: %s\n", what);
    abort();
  }
}

ApiResponse Nothing(ServiceContext&, const ApiRequest&) { return {}; }

// The route table of API v1 (verifier/service/routes.cc and the enrollment
// routes), with handlers that are never called.
const Router& ApiRouter() {
  static const Router* router = [] {
    std::vector<Route> routes;
    for (const auto& [method, pattern] : std::vector<std::pair<const char*, const char*>>{
             {"POST", "/v1/challenge"},
             {"POST", "/v1/attest"},
             {"GET", "/v1/attestations/{id}"},
             {"POST", "/v1/attesters"},
             {"POST", "/v1/attesters/{id}/activate"},
             {"GET", "/v1/attesters/{id}"},
             {"DELETE", "/v1/attesters/{id}"},
             {"PUT", "/v1/policies/{id}"},
             {"GET", "/v1/policies/{id}"},
             {"PUT", "/v1/secrets/{name}"},
             {"GET", "/.well-known/fdattest-keys"},
             {"GET", "/healthz"},
             {"GET", "/metrics"}}) {
      routes.push_back({method, pattern, Role::kNone, BodyKind::kNone, Nothing});
    }
    return new Router(std::move(routes));
  }();
  return *router;
}

void FuzzRoute(const std::string& input) {
  const size_t nl = input.find('\n');
  const std::string method = input.substr(0, nl);
  const std::string path = nl == std::string::npos ? "" : input.substr(nl + 1);
  const Router& router = ApiRouter();
  const RouteMatch match = router.Find(method, path);
  if (match.kind == RouteMatch::Kind::kMethodNotAllowed) Check(!match.allow.empty(), "allow");
  if (match.kind != RouteMatch::Kind::kFound) return;
  const Route& route = router.routes()[match.index];
  Check(route.method == method, "method");
  std::string rebuilt;
  for (absl::string_view segment : absl::StrSplit(absl::string_view(route.pattern).substr(1), '/')) {
    rebuilt += "/";
    if (segment.size() > 2 && segment.front() == '{') {
      const std::string name(segment.substr(1, segment.size() - 2));
      Check(match.params.count(name) == 1, "parameter present");
      Check(IsValidPathParam(match.params.at(name)), "parameter valid");
      rebuilt += match.params.at(name);
    } else {
      rebuilt += std::string(segment);
    }
  }
  Check(rebuilt == path, "routed path is its pattern with its parameters");
}

void FuzzBodies(uint8_t which, const std::string& input) {
  switch (which) {
    case 1: {
      absl::StatusOr<ChallengeBody> b = ParseChallengeBody(input, 3600);
      if (b.ok() && b->lifetime) Check(*b->lifetime >= 1 && *b->lifetime <= 3600, "lifetime");
      break;
    }
    case 2: {
      absl::StatusOr<SecretBody> b = ParseSecretBody(input);
      if (b.ok()) {
        Check(!b->value.empty() && b->value.size() <= kMaxSecretBytes, "secret size");
        Check(IsValidName(b->policy), "secret policy");
      }
      break;
    }
    case 3: {
      absl::StatusOr<std::vector<std::string>> names = ParseReleaseList(input);
      if (names.ok()) {
        Check(!names->empty() && names->size() <= kMaxReleaseNames, "release count");
        std::set<std::string> distinct(names->begin(), names->end());
        Check(distinct.size() == names->size(), "release distinct");
        for (const std::string& n : *names) Check(IsValidName(n), "release name");
      }
      break;
    }
    case 4:
      (void)Policy::Parse(input);
      break;
    case 6: {
      absl::StatusOr<EnrollBody> b = ParseEnrollBody(input);
      if (b.ok()) {
        Check(!b->ek_certificate.empty() && !b->ak_public.empty(), "enroll values");
        // What was decoded is what the body carried.
        absl::StatusOr<Json> j = ParseJsonStrict(input);
        Check(j.ok() && j->is_object(), "enroll body is a JSON object");
        Check(*Base64Decode((*j)["ek_certificate"].get<std::string>()) == b->ek_certificate,
              "enroll certificate");
        Check(*Base64Decode((*j)["ak_public"].get<std::string>()) == b->ak_public, "enroll AK");
        Check(b->replace == j->value("replace", false), "enroll replace");
      }
      break;
    }
    case 7: {
      absl::StatusOr<std::string> secret = ParseActivateBody(input);
      if (secret.ok()) Check(!secret->empty(), "activation secret");
      break;
    }
    case 8: {
      // KEY=VALUE pairs split at '&' as the HTTP layer hands them over (a
      // repeated key: the last value).
      std::map<std::string, std::string> query;
      for (absl::string_view pair : absl::StrSplit(input, '&')) {
        const size_t eq = pair.find('=');
        query[std::string(pair.substr(0, eq))] =
            eq == absl::string_view::npos ? "" : std::string(pair.substr(eq + 1));
      }
      AttestQuery q;
      if (std::optional<ApiResponse> problem = ParseAttestQuery(query, &q)) {
        absl::StatusOr<Json> j = ParseJsonStrict(problem->body);
        Check(problem->status == 400 && j.ok(), "attest query problem");
        const std::string type = (*j)["type"];
        Check(type == std::string(kProblemTypeBase) + "bad-policy-id" ||
                  type == std::string(kProblemTypeBase) + "bad-release" ||
                  type == std::string(kProblemTypeBase) + "policy-required",
              "attest query problem type");
        break;
      }
      Check(!q.policy_id.empty() || !q.release.empty(), "attest query names something");
      Check(q.policy_id.empty() || (IsValidName(q.policy_id) && q.policy_id == query["policy"]),
            "attest query policy");
      Check(q.release.size() <= kMaxReleaseNames, "attest query release count");
      for (const std::string& n : q.release) Check(IsValidName(n), "attest query release name");
      break;
    }
    default: {
      const ApiResponse p = Problem(400, "bad-request", "Bad request", input);
      absl::StatusOr<Json> j = ParseJsonStrict(p.body);
      Check(j.ok() && j->is_object() && (*j)["status"] == 400, "problem is JSON");
      break;
    }
  }
}

}  // namespace
}  // namespace fdattest

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string input(reinterpret_cast<const char*>(data) + 1, size - 1);
  const uint8_t which = data[0] % 9;
  if (which == 0) {
    fdattest::FuzzRoute(input);
  } else {
    fdattest::FuzzBodies(which, input);
  }
  return 0;
}
