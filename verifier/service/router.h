// fdverifierd's route table and how a request finds its route: a path
// matched segment by segment against patterns such as
// "/v1/attesters/{id}/activate" (a parameter is one segment of letters,
// digits, '.', '_' or '-', at most 128 bytes; a last segment "{name...}"
// takes the rest of the path, one or more such segments joined by '/'), then the caller's role and the
// request's body checked against what the route declares. Pure and
// independent of HTTP libraries (verifier/service/http_server.h adapts it),
// so the routing is unit-tested and fuzzed on its own.
// A Router is immutable after construction; thread-safe.
#ifndef FDATTEST_VERIFIER_SERVICE_ROUTER_H_
#define FDATTEST_VERIFIER_SERVICE_ROUTER_H_

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "verifier/service/api.h"

namespace fdattest {

// What a route takes as its body.
enum class BodyKind {
  kNone,          // no body (a body is 415)
  kJson,          // application/json, required
  kOptionalJson,  // empty, or application/json
};

struct Route {
  std::string method;   // "GET", "POST", "PUT", "DELETE"
  std::string pattern;  // "/v1/policies/{id}"; also the route's label in logs and metrics
  Role role = Role::kNone;  // least role: kAuditor admits admin too
  BodyKind body = BodyKind::kNone;
  Handler handler;
};

struct RouteMatch {
  enum class Kind { kFound, kNotFound, kMethodNotAllowed } kind = Kind::kNotFound;
  size_t index = 0;  // into Router::routes(), when found
  std::map<std::string, std::string> params;
  std::string allow;  // kMethodNotAllowed: the methods the path has, "GET, PUT"
};

class Router {
 public:
  explicit Router(std::vector<Route> routes);

  RouteMatch Find(absl::string_view method, absl::string_view path) const;
  const std::vector<Route>& routes() const { return routes_; }

 private:
  std::vector<Route> routes_;
  std::vector<std::vector<std::string>> segments_;  // per route, its pattern split at '/'
};

// One path parameter's syntax (see above).
bool IsValidPathParam(absl::string_view segment);

// The problem for a caller whose role does not reach `route.role`: 401 when
// it showed no client certificate, 403 when its certificate's role is too
// small; nothing when it may call the route.
std::optional<ApiResponse> CheckRole(const Route& route, Role role, bool has_certificate);

// The problem for a body the route does not take: 415 for a body on a route
// that takes none, or one whose media type (`content_type`, lowercase,
// without parameters) is not application/json where JSON is expected.
std::optional<ApiResponse> CheckBody(const Route& route, absl::string_view content_type,
                                     size_t content_length);

// The problem documents the router itself answers with.
ApiResponse NotFoundProblem(absl::string_view path);
ApiResponse MethodNotAllowedProblem(absl::string_view method, absl::string_view allow);

}  // namespace fdattest

#endif  // FDATTEST_VERIFIER_SERVICE_ROUTER_H_
