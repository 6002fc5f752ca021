// fdverifierd's handlers see HTTP through these plain values, so that every
// route is a function from (context, request) to response, testable without
// sockets or TLS; verifier/service/http_server.h adapts cpp-httplib to them.
// Errors are RFC 9457 problem documents (application/problem+json) whose
// `type` is a URI under kProblemTypeBase naming the error (docs/openapi.yaml
// lists every one). Values; thread-safe.
#ifndef FDATTEST_VERIFIER_SERVICE_API_H_
#define FDATTEST_VERIFIER_SERVICE_API_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"
#include "common/json.h"
#include "common/status.h"
#include "verifier/audit/signed_note.h"
#include "verifier/service/nonce_budget.h"
#include "verifier/store.h"

namespace fdattest {

inline constexpr absl::string_view kProblemTypeBase = "https://fdattest.dev/problems/";
inline constexpr absl::string_view kJsonMediaType = "application/json";
inline constexpr absl::string_view kProblemMediaType = "application/problem+json";

// Who is calling, from the TLS client certificate (verifier/service/tls.h):
// none without one, admin or auditor by the certificate's role.
enum class Role { kNone, kAdmin, kAuditor };
absl::string_view RoleName(Role role);  // "none", "admin", "auditor"

struct ApiRequest {
  std::string method;  // "GET", "POST", ...
  std::string path;    // as received, without the query
  std::map<std::string, std::string> path_params;  // e.g. {"id": "..."} for /v1/attesters/{id}
  std::map<std::string, std::string> query;        // a repeated key: the last value
  std::string content_type;  // without parameters, lowercase
  std::string body;
  Role role = Role::kNone;
  std::string client_subject;  // the client certificate's subject, for logs
};

struct ApiResponse {
  int status = 200;
  std::string content_type = std::string(kJsonMediaType);
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // extra, e.g. Retry-After
  // Extra fields of the request's access-log line (the verdict, a result's
  // id): never a body, evidence, secret or anything a client wrote freely.
  std::vector<std::pair<std::string, std::string>> log;
};

// A problem document: {"type": kProblemTypeBase + type, "title", "status",
// "detail"}; `type` is a short slug such as "nonce-expired".
ApiResponse Problem(int status, absl::string_view type, absl::string_view title,
                    absl::string_view detail);
// The problem a Status stands for: InvalidArgument 400, Unauthenticated 401,
// PermissionDenied 403, NotFound 404, AlreadyExists and FailedPrecondition
// 409, ResourceExhausted 429, Unavailable 503, everything else 500 (whose
// detail never carries the internal message).
ApiResponse ProblemFromStatus(const absl::Status& status, absl::string_view type);
ApiResponse JsonReply(int status, const Json& body);
// 503 store-unavailable with Retry-After: the store failed (its message goes
// to the log only).
ApiResponse StoreProblem(const absl::Status& status);

class FilterProofCache;  // verifier/proof_cache.h
class IdentityCache;     // verifier/identity_cache.h
class Metrics;           // verifier/service/metrics.h
class PolicyCache;       // verifier/service/policy_cache.h
class SecretBox;         // verifier/secret_box.h
class SigningKey;        // verifier/jose_key.h
class TenantKeyCache;    // verifier/service/archive_entry.h

// The service's configurable limits (fdverifierd's options; docs/service.md).
struct ServiceLimits {
  int64_t nonce_lifetime = 300;      // seconds, when /v1/challenge asks for none
  // How long archived evidence, results and decision records are kept
  // (six years and two leap days by default; leaves are kept for ever).
  int64_t retention_seconds = (6 * 365 + 2) * int64_t{86400};
  int64_t max_nonce_lifetime = 3600;
  int64_t ear_lifetime = 300;        // EAR exp - iat, seconds
  int64_t retry_after = 1;           // seconds, on 429 and 503
};

// What the handlers share, owned by fdverifierd for its lifetime. Fields are
// set once before the server starts and read-only afterwards; the pointees
// are thread-safe. A null pointer turns its routes into 503 answers.
struct ServiceContext {
  Store* store = nullptr;
  std::string tpm_ca_pem;                   // trusted TPM vendor CAs (PEM)
  std::function<int64_t()> now;             // unix seconds
  std::function<std::string(size_t)> random;  // n random bytes (OpenSSL RAND_bytes)
  SecretBox* secret_box = nullptr;          // seals secrets at rest
  const SigningKey* signing_key = nullptr;  // signs EARs; its public JWK is served
  FilterProofCache* proof_cache = nullptr;  // shared across requests
  IdentityCache* identity_cache = nullptr;  // shared across requests
  PolicyCache* policies = nullptr;          // parsed policies by (id, version)
  NonceBudget* nonces = nullptr;            // the cap on outstanding nonces
  // The audit archive's tenant keys; null: results are not archived (tests).
  TenantKeyCache* tenant_keys = nullptr;
  std::string tpm_ca_sha256;  // hex sha256 of tpm_ca_pem (the decision records name it)
  // The witnesses whose cosignatures of the log's checkpoints are accepted.
  std::vector<NoteVerifier> witnesses;
  // Nonces of attestations being verified (never null).
  std::shared_ptr<NonceClaims> nonce_claims = std::make_shared<NonceClaims>();
  Metrics* metrics = nullptr;
  const std::atomic<int64_t>* in_flight = nullptr;  // requests being served (the HTTP layer's)
  ServiceLimits limits;
};

using Handler = std::function<ApiResponse(ServiceContext&, const ApiRequest&)>;

}  // namespace fdattest

#endif  // FDATTEST_VERIFIER_SERVICE_API_H_
