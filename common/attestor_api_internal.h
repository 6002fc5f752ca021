// Helpers shared by the two files that implement common/attestor_api.h:
// attestor_api.cc (the original ops) and attestor_api_launch.cc (the
// observed-launch ops hold, launch, release, reattest). Not part of the API:
// include only from those two files.
#ifndef FDATTEST_COMMON_ATTESTOR_API_INTERNAL_H_
#define FDATTEST_COMMON_ATTESTOR_API_INTERNAL_H_

#include <optional>
#include <string>

#include "absl/strings/str_cat.h"
#include "common/attestor_api.h"
#include "common/json.h"

namespace fdattest::attestor_api_internal {

absl::Status CheckLaunchIdField(absl::string_view id);
// A base64 field's bytes; InvalidArgument naming `key`.
absl::StatusOr<std::string> Base64Bytes(const std::optional<std::string>& text,
                                        absl::string_view key, bool allow_empty);
// Lowercase hex of exactly `bytes` bytes, or of any non-zero length when 0.
absl::StatusOr<std::string> HexBytes(const std::optional<std::string>& hex, absl::string_view key,
                                     size_t bytes);
// `response` with "ok" added, as canonical JSON.
absl::StatusOr<std::string> Encode(Json response, bool ok);

// A response's document and its "ok".
struct Envelope {
  JsonDocument doc;
  bool ok = false;
};
// `payload` must outlive the envelope (the document borrows it).
absl::StatusOr<Envelope> ParseEnvelope(absl::string_view payload);
absl::StatusOr<ErrorResponse> ErrorFromJson(const JsonValue& json);

// Parses the answer of type T (its "ok" must be true).
template <typename T>
absl::StatusOr<T> ParseAnswer(absl::string_view payload,
                              absl::StatusOr<T> (*from_json)(const JsonValue&)) {
  ASSIGN_OR_RETURN(Envelope envelope, ParseEnvelope(payload));
  if (!envelope.ok) {
    absl::StatusOr<ErrorResponse> error = ErrorFromJson(envelope.doc.root());
    if (!error.ok()) return error.status();
    return absl::InvalidArgumentError(absl::StrCat("response: an error (",
                                                   ErrorCodeName(error->code), ": ", error->message,
                                                   ") where an answer was due"));
  }
  return from_json(envelope.doc.root());
}

// The observed-launch ops (attestor_api_launch.cc).
std::optional<AttestorRequest::Op> LaunchOpNamed(absl::string_view name);
// Checks the fields of a hold, launch, release or reattest request.
absl::Status CheckLaunchOpRequest(const AttestorRequest& r);
// Reads the op's fields (r.op already set) and finishes `fields`.
absl::Status ParseLaunchOp(JsonValueFields& fields, AttestorRequest& r);
void SerializeLaunchOp(const AttestorRequest& r, Json& j);
absl::StatusOr<HoldResponse> HoldFromJson(const JsonValue& json);
absl::StatusOr<LaunchResponse> LaunchFromJson(const JsonValue& json);
absl::StatusOr<ReleaseResponse> ReleaseFromJson(const JsonValue& json);
absl::StatusOr<ReattestResponse> ReattestFromJson(const JsonValue& json);

}  // namespace fdattest::attestor_api_internal

#endif  // FDATTEST_COMMON_ATTESTOR_API_INTERNAL_H_
