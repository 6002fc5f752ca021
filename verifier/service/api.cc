#include "verifier/service/api.h"

#include "absl/strings/str_cat.h"

namespace fdattest {

absl::string_view RoleName(Role role) {
  switch (role) {
    case Role::kAdmin:
      return "admin";
    case Role::kAuditor:
      return "auditor";
    case Role::kNone:
      break;
  }
  return "none";
}

ApiResponse Problem(int status, absl::string_view type, absl::string_view title,
                    absl::string_view detail) {
  Json body = {{"type", absl::StrCat(kProblemTypeBase, type)},
               {"title", std::string(title)},
               {"status", status},
               {"detail", std::string(detail)}};
  ApiResponse response;
  response.status = status;
  response.content_type = std::string(kProblemMediaType);
  // dump() with the replace handler: a detail quoting bad input never throws.
  response.body = body.dump(-1, ' ', false, Json::error_handler_t::replace);
  return response;
}

ApiResponse ProblemFromStatus(const absl::Status& status, absl::string_view type) {
  switch (status.code()) {
    case absl::StatusCode::kInvalidArgument:
      return Problem(400, type, "Bad request", status.message());
    case absl::StatusCode::kUnauthenticated:
      return Problem(401, type, "Unauthenticated", status.message());
    case absl::StatusCode::kPermissionDenied:
      return Problem(403, type, "Forbidden", status.message());
    case absl::StatusCode::kNotFound:
      return Problem(404, type, "Not found", status.message());
    case absl::StatusCode::kAlreadyExists:
    case absl::StatusCode::kFailedPrecondition:
      return Problem(409, type, "Conflict", status.message());
    case absl::StatusCode::kResourceExhausted:
      return Problem(429, type, "Too many requests", status.message());
    case absl::StatusCode::kUnavailable:
      return Problem(503, type, "Service unavailable", status.message());
    default:
      // Internal messages may name files or state: never sent to a client.
      return Problem(500, "internal", "Internal error", "the verifier failed; see its log");
  }
}

ApiResponse JsonReply(int status, const Json& body) {
  ApiResponse response;
  response.status = status;
  response.body = body.dump(-1, ' ', false, Json::error_handler_t::replace);
  return response;
}

ApiResponse StoreProblem(const absl::Status& status) {
  ApiResponse response =
      Problem(503, "store-unavailable", "Service unavailable", "the verifier's store failed");
  response.headers.emplace_back("Retry-After", "1");
  response.log.emplace_back("error", std::string(status.message()));
  return response;
}

}  // namespace fdattest
