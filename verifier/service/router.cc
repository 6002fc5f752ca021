#include "verifier/service/router.h"

#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

namespace fdattest {
namespace {

constexpr size_t kMaxParamBytes = 128;
constexpr size_t kMaxSegments = 16;

bool IsParamPattern(absl::string_view segment) {
  return segment.size() > 2 && segment.front() == '{' && segment.back() == '}';
}

// "{name...}": the rest of the path, one or more segments.
bool IsRestPattern(absl::string_view segment) {
  return IsParamPattern(segment) && absl::EndsWith(segment, "...}");
}

// The path's segments after its leading '/'; nothing for a path that is not
// absolute or has too many segments.
std::optional<std::vector<absl::string_view>> SplitPath(absl::string_view path) {
  if (path.empty() || path.front() != '/') return std::nullopt;
  std::vector<absl::string_view> segments = absl::StrSplit(path.substr(1), '/');
  if (segments.size() > kMaxSegments) return std::nullopt;
  return segments;
}

}  // namespace

bool IsValidPathParam(absl::string_view segment) {
  if (segment.empty() || segment.size() > kMaxParamBytes) return false;
  if (segment == "." || segment == "..") return false;
  for (char c : segment) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

Router::Router(std::vector<Route> routes) : routes_(std::move(routes)) {
  for (const Route& route : routes_) {
    std::vector<std::string> segments = absl::StrSplit(absl::string_view(route.pattern).substr(1), '/');
    segments_.push_back(std::move(segments));
  }
}

RouteMatch Router::Find(absl::string_view method, absl::string_view path) const {
  RouteMatch match;
  std::optional<std::vector<absl::string_view>> segments = SplitPath(path);
  if (!segments) return match;
  std::vector<std::string> allowed;
  for (size_t i = 0; i < routes_.size(); ++i) {
    const std::vector<std::string>& pattern = segments_[i];
    const bool rest = !pattern.empty() && IsRestPattern(pattern.back());
    if (rest ? segments->size() < pattern.size() : pattern.size() != segments->size()) continue;
    std::map<std::string, std::string> params;
    bool matches = true;
    for (size_t s = 0; s < pattern.size() && matches; ++s) {
      const absl::string_view got = (*segments)[s];
      if (rest && s + 1 == pattern.size()) {
        // Every remaining segment must be a valid parameter on its own.
        std::vector<absl::string_view> tail(segments->begin() + static_cast<ptrdiff_t>(s),
                                            segments->end());
        for (absl::string_view t : tail) matches = matches && IsValidPathParam(t);
        if (matches) params[pattern[s].substr(1, pattern[s].size() - 5)] = absl::StrJoin(tail, "/");
      } else if (IsParamPattern(pattern[s])) {
        matches = IsValidPathParam(got);
        if (matches) params[pattern[s].substr(1, pattern[s].size() - 2)] = std::string(got);
      } else {
        matches = got == pattern[s];
      }
    }
    if (!matches) continue;
    if (routes_[i].method == method) {
      match.kind = RouteMatch::Kind::kFound;
      match.index = i;
      match.params = std::move(params);
      return match;
    }
    allowed.push_back(routes_[i].method);
  }
  if (!allowed.empty()) {
    match.kind = RouteMatch::Kind::kMethodNotAllowed;
    match.allow = absl::StrJoin(allowed, ", ");
  }
  return match;
}

std::optional<ApiResponse> CheckRole(const Route& route, Role role, bool has_certificate) {
  bool allowed = false;
  switch (route.role) {
    case Role::kNone:
      allowed = true;
      break;
    case Role::kAuditor:
      allowed = role == Role::kAuditor || role == Role::kAdmin;
      break;
    case Role::kAdmin:
      allowed = role == Role::kAdmin;
      break;
  }
  if (allowed) return std::nullopt;
  if (!has_certificate) {
    return Problem(401, "client-certificate-required", "Client certificate required",
                   absl::StrCat("this route needs a client certificate of role ",
                                RoleName(route.role)));
  }
  return Problem(403, "role-forbidden", "Forbidden",
                 absl::StrCat("this route needs role ", RoleName(route.role),
                              (route.role == Role::kAuditor ? " or admin" : ""),
                              "; the client certificate has role ", RoleName(role)));
}

std::optional<ApiResponse> CheckBody(const Route& route, absl::string_view content_type,
                                     size_t content_length) {
  switch (route.body) {
    case BodyKind::kNone:
      if (content_length == 0) return std::nullopt;
      return Problem(415, "unsupported-media-type", "Unsupported media type",
                     "this route takes no request body");
    case BodyKind::kOptionalJson:
      if (content_length == 0) return std::nullopt;
      break;
    case BodyKind::kJson:
      break;
  }
  if (content_type == kJsonMediaType) return std::nullopt;
  return Problem(415, "unsupported-media-type", "Unsupported media type",
                 "the request body must be application/json");
}

ApiResponse NotFoundProblem(absl::string_view path) {
  // The path is the client's own input: quoted only when it is short.
  return Problem(404, "not-found", "Not found",
                 path.size() <= 200 ? absl::StrCat("no route for ", path) : "no route for this path");
}

ApiResponse MethodNotAllowedProblem(absl::string_view method, absl::string_view allow) {
  ApiResponse response =
      Problem(405, "method-not-allowed", "Method not allowed",
              absl::StrCat(method.size() <= 16 ? method : "this method",
                           " is not allowed here; allowed: ", allow));
  response.headers.emplace_back("Allow", std::string(allow));
  return response;
}

}  // namespace fdattest
