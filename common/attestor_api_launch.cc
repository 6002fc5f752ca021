// The observed-launch ops of common/attestor_api.h: hold, launch, release
// and reattest, with their answers (docs/attestor.md, "An observed launch").
#include <limits>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/attestor_api.h"
#include "common/attestor_api_internal.h"
#include "common/base64.h"
#include "common/json.h"

namespace fdattest {

using namespace attestor_api_internal;  // NOLINT: this file's own helpers

namespace {

using Op = AttestorRequest::Op;

// A manifest in a launch request leaves room in the frame for its base64.
constexpr size_t kMaxManifestBytes = kMaxFrameBytes / 2;

absl::Status CheckNonce(absl::string_view nonce, bool required, absl::string_view op) {
  const size_t min = required ? 1 : 0;
  if (nonce.size() < min || nonce.size() > kMaxQualifyingDataBytes) {
    return absl::InvalidArgumentError(absl::StrCat("request: the nonce of a ", op,
                                                   " request must be ", min, " to ",
                                                   kMaxQualifyingDataBytes, " bytes; got ",
                                                   nonce.size()));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> Base64Field(const std::optional<std::string>& text,
                                        absl::string_view key) {
  absl::StatusOr<std::string> bytes = Base64Decode(*text);
  if (!bytes.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("request: \"", key, "\" is not base64"));
  }
  return bytes;
}

}  // namespace

namespace attestor_api_internal {

std::optional<Op> LaunchOpNamed(absl::string_view name) {
  for (Op op : {Op::kHold, Op::kLaunch, Op::kRelease, Op::kReattest}) {
    if (name == OpName(op)) return op;
  }
  return std::nullopt;
}

absl::Status CheckLaunchOpRequest(const AttestorRequest& r) {
  RETURN_IF_ERROR(CheckLaunchIdField(r.launch_id));
  switch (r.op) {
    case Op::kHold:
      if (r.pid < 1 || r.pid > std::numeric_limits<int32_t>::max()) {
        return absl::InvalidArgumentError("request: \"pid\" must be 1 to 2147483647");
      }
      return absl::OkStatus();
    case Op::kLaunch:
      if (r.manifest.empty() || r.manifest.size() > kMaxManifestBytes) {
        return absl::InvalidArgumentError(absl::StrCat(
            "request: \"manifest\" must be 1 to ", kMaxManifestBytes, " bytes; got ",
            r.manifest.size()));
      }
      return CheckNonce(r.nonce, /*required=*/false, "launch");
    case Op::kRelease:
      return absl::OkStatus();
    case Op::kReattest:
      return CheckNonce(r.nonce, /*required=*/true, "reattest");
    default:
      return absl::InvalidArgumentError("request: not an observed-launch op");
  }
}

absl::Status ParseLaunchOp(JsonValueFields& fields, AttestorRequest& r) {
  std::optional<std::string> launch_id = fields.String("launch_id", true);
  std::optional<int64_t> pid;
  std::optional<std::string> manifest, nonce;
  if (r.op == Op::kHold) pid = fields.Int("pid", true, 1, std::numeric_limits<int32_t>::max());
  if (r.op == Op::kLaunch) manifest = fields.String("manifest", true);
  if (r.op == Op::kLaunch || r.op == Op::kReattest) nonce = fields.String("nonce", true);
  RETURN_IF_ERROR(fields.Finish());
  r.launch_id = *launch_id;
  if (pid) r.pid = *pid;
  if (manifest) {
    ASSIGN_OR_RETURN(r.manifest, Base64Field(manifest, "manifest"));
  }
  if (nonce) {
    ASSIGN_OR_RETURN(r.nonce, Base64Field(nonce, "nonce"));
  }
  return CheckLaunchOpRequest(r);
}

void SerializeLaunchOp(const AttestorRequest& r, Json& j) {
  j["launch_id"] = r.launch_id;
  if (r.op == Op::kHold) j["pid"] = r.pid;
  if (r.op == Op::kLaunch) j["manifest"] = Base64Encode(r.manifest);
  if (r.op == Op::kLaunch || r.op == Op::kReattest) j["nonce"] = Base64Encode(r.nonce);
}

absl::StatusOr<HoldResponse> HoldFromJson(const JsonValue& json) {
  JsonValueFields f(json, "hold");
  f.Bool("ok", true);
  std::optional<bool> observing = f.Bool("observing", true);
  RETURN_IF_ERROR(f.Finish());
  return HoldResponse{.observing = *observing};
}

absl::StatusOr<LaunchResponse> LaunchFromJson(const JsonValue& json) {
  JsonValueFields f(json, "launch");
  f.Bool("ok", true);
  std::optional<int64_t> manifest = f.Int("manifest_recnum", true, 0, INT64_MAX - 1);
  std::optional<int64_t> observation = f.Int("observation_recnum", true, 1, INT64_MAX);
  RETURN_IF_ERROR(f.Finish());
  if (*observation != *manifest + 1) {
    return absl::InvalidArgumentError(
        "launch: observation_recnum must be the record right after manifest_recnum");
  }
  return LaunchResponse{.manifest_recnum = static_cast<uint64_t>(*manifest),
                        .observation_recnum = static_cast<uint64_t>(*observation)};
}

absl::StatusOr<ReleaseResponse> ReleaseFromJson(const JsonValue& json) {
  JsonValueFields f(json, "release");
  f.Bool("ok", true);
  RETURN_IF_ERROR(f.Finish());
  return ReleaseResponse{};
}

absl::StatusOr<ReattestResponse> ReattestFromJson(const JsonValue& json) {
  JsonValueFields f(json, "reattest");
  f.Bool("ok", true);
  std::optional<bool> gone = f.Bool("gone", true);
  std::optional<int64_t> recnum;
  std::optional<std::string> manifest;
  if (gone.has_value() && !*gone) {
    recnum = f.Int("recnum", true, 0, INT64_MAX);
    manifest = f.String("manifest", true);
  }
  RETURN_IF_ERROR(f.Finish());
  ReattestResponse response{.gone = *gone};
  if (!response.gone) {
    response.recnum = static_cast<uint64_t>(*recnum);
    ASSIGN_OR_RETURN(response.manifest, Base64Bytes(manifest, "manifest", false));
  }
  return response;
}

}  // namespace attestor_api_internal

absl::StatusOr<AttestorRequest> AttestorRequest::Hold(absl::string_view launch_id, int64_t pid) {
  AttestorRequest r{.op = Op::kHold, .launch_id = std::string(launch_id), .pid = pid};
  RETURN_IF_ERROR(CheckLaunchOpRequest(r));
  return r;
}

absl::StatusOr<AttestorRequest> AttestorRequest::Launch(absl::string_view launch_id,
                                                        absl::string_view manifest,
                                                        absl::string_view nonce) {
  AttestorRequest r{.op = Op::kLaunch,
                    .launch_id = std::string(launch_id),
                    .manifest = std::string(manifest),
                    .nonce = std::string(nonce)};
  RETURN_IF_ERROR(CheckLaunchOpRequest(r));
  return r;
}

absl::StatusOr<AttestorRequest> AttestorRequest::Release(absl::string_view launch_id) {
  AttestorRequest r{.op = Op::kRelease, .launch_id = std::string(launch_id)};
  RETURN_IF_ERROR(CheckLaunchOpRequest(r));
  return r;
}

absl::StatusOr<AttestorRequest> AttestorRequest::Reattest(absl::string_view launch_id,
                                                          absl::string_view nonce) {
  AttestorRequest r{
      .op = Op::kReattest, .launch_id = std::string(launch_id), .nonce = std::string(nonce)};
  RETURN_IF_ERROR(CheckLaunchOpRequest(r));
  return r;
}

absl::StatusOr<HoldResponse> HoldResponse::Parse(absl::string_view payload) {
  return ParseAnswer(payload, &HoldFromJson);
}

absl::StatusOr<std::string> HoldResponse::Serialize() const {
  return Encode(Json{{"observing", observing}}, /*ok=*/true);
}

absl::StatusOr<LaunchResponse> LaunchResponse::Parse(absl::string_view payload) {
  return ParseAnswer(payload, &LaunchFromJson);
}

absl::StatusOr<std::string> LaunchResponse::Serialize() const {
  return Encode(
      Json{{"manifest_recnum", manifest_recnum}, {"observation_recnum", observation_recnum}},
      /*ok=*/true);
}

absl::StatusOr<ReleaseResponse> ReleaseResponse::Parse(absl::string_view payload) {
  return ParseAnswer(payload, &ReleaseFromJson);
}

absl::StatusOr<std::string> ReleaseResponse::Serialize() const {
  return Encode(Json::object(), /*ok=*/true);
}

absl::StatusOr<ReattestResponse> ReattestResponse::Parse(absl::string_view payload) {
  return ParseAnswer(payload, &ReattestFromJson);
}

absl::StatusOr<std::string> ReattestResponse::Serialize() const {
  if (gone) return Encode(Json{{"gone", true}}, /*ok=*/true);
  if (manifest.empty()) return absl::InvalidArgumentError("reattest: no manifest");
  return Encode(Json{{"gone", false}, {"manifest", Base64Encode(manifest)}, {"recnum", recnum}},
                /*ok=*/true);
}

}  // namespace fdattest
