#include "common/attestor_api.h"

#include <algorithm>
#include <cstring>
#include <tuple>
#include <utility>
#include <variant>

#include "absl/strings/str_cat.h"
#include "common/base64.h"
#include "common/attestor_api_internal.h"
#include "common/json.h"

namespace fdattest {

using namespace attestor_api_internal;  // NOLINT: this file's own helpers

namespace {

constexpr JsonLimits kRequestLimits{.max_bytes = kMaxFrameBytes, .max_depth = 4};
// A served load observation of a workload holding a socket is nine levels
// deep (response, records, record, content, data, observation, fds, fd, socket).
constexpr JsonLimits kResponseLimits{.max_bytes = kMaxFrameBytes, .max_depth = 10};

// The status codes an error response may carry, by their wire names.
constexpr std::pair<absl::string_view, absl::StatusCode> kErrorCodes[] = {
    {"InvalidArgument", absl::StatusCode::kInvalidArgument},
    {"PermissionDenied", absl::StatusCode::kPermissionDenied},
    {"FailedPrecondition", absl::StatusCode::kFailedPrecondition},
    {"DataLoss", absl::StatusCode::kDataLoss},
    {"Internal", absl::StatusCode::kInternal},
};

absl::StatusCode FoldErrorCode(absl::StatusCode code) {
  switch (code) {
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kPermissionDenied:
    case absl::StatusCode::kFailedPrecondition:
    case absl::StatusCode::kDataLoss:
      return code;
    case absl::StatusCode::kNotFound:
    case absl::StatusCode::kAlreadyExists:
    case absl::StatusCode::kOutOfRange:
      return absl::StatusCode::kFailedPrecondition;
    default:
      return absl::StatusCode::kInternal;
  }
}

absl::StatusOr<Sha256Digest> DigestFromHex(absl::string_view hex, absl::string_view key) {
  if (hex.size() != 64 || !IsLowerHex(hex)) {
    return absl::InvalidArgumentError(
        absl::StrCat("request: \"", key, "\" must be 64 lowercase hex digits"));
  }
  ASSIGN_OR_RETURN(std::string bytes, HexDecode(hex));
  Sha256Digest d;
  std::memcpy(d.data(), bytes.data(), d.size());
  return d;
}

}  // namespace

namespace attestor_api_internal {

absl::Status CheckLaunchIdField(absl::string_view id) {
  if (id.size() != 32 || !IsLowerHex(id)) {
    return absl::InvalidArgumentError("request: \"launch_id\" must be 32 lowercase hex digits");
  }
  return absl::OkStatus();
}

}  // namespace attestor_api_internal

namespace {

absl::Status CheckQualifyingDataSize(size_t size) {
  if (size == 0 || size > kMaxQualifyingDataBytes) {
    return absl::InvalidArgumentError(absl::StrCat("request: \"qualifying_data\" must be 1 to ",
                                                   kMaxQualifyingDataBytes, " bytes; got ", size));
  }
  return absl::OkStatus();
}

absl::Status CheckCredentialFields(absl::string_view blob, absl::string_view secret) {
  if (blob.empty() || blob.size() > kMaxCredentialBlobBytes) {
    return absl::InvalidArgumentError(absl::StrCat("request: \"credential_blob\" must be 1 to ",
                                                   kMaxCredentialBlobBytes, " bytes; got ",
                                                   blob.size()));
  }
  if (secret.empty() || secret.size() > kMaxEncryptedSecretBytes) {
    return absl::InvalidArgumentError(absl::StrCat("request: \"encrypted_secret\" must be 1 to ",
                                                   kMaxEncryptedSecretBytes, " bytes; got ",
                                                   secret.size()));
  }
  return absl::OkStatus();
}

// The content a measure request for `type` and `launch_id` carries.
absl::StatusOr<CelContent> MeasureContent(absl::string_view type, absl::string_view launch_id,
                                          const std::optional<std::string>& manifest_sha256) {
  RETURN_IF_ERROR(CheckLaunchIdField(launch_id));
  if (type == "launch_manifest") {
    ASSIGN_OR_RETURN(Sha256Digest digest, DigestFromHex(*manifest_sha256, "manifest_sha256"));
    return CelContent::LaunchManifestDigest(launch_id, digest);
  }
  if (type == "launch_separator") return CelContent::LaunchSeparator(launch_id);
  return absl::InvalidArgumentError(absl::StrCat("request: unknown measure type \"", type,
                                                 "\" (launch_manifest or launch_separator)"));
}

// A request carries its op's fields and no other (so Serialize writes all of it).
absl::Status CheckRequest(const AttestorRequest& r) {
  using Op = AttestorRequest::Op;
  auto stray = [&](absl::string_view field) {
    return absl::InvalidArgumentError(
        absl::StrCat("request: a ", OpName(r.op), " request has no ", field));
  };
  if (r.op != Op::kMeasure && r.content.has_value()) return stray("content");
  if (r.op != Op::kCertify && !r.qualifying_data.empty()) return stray("\"qualifying_data\"");
  const bool has_launch_id = r.op == Op::kLog || r.op == Op::kHold || r.op == Op::kLaunch ||
                             r.op == Op::kRelease || r.op == Op::kReattest;
  if (!has_launch_id && !r.launch_id.empty()) return stray("\"launch_id\"");
  if (r.op != Op::kHold && r.pid != 0) return stray("\"pid\"");
  if (r.op != Op::kLaunch && !r.manifest.empty()) return stray("\"manifest\"");
  if (r.op != Op::kLaunch && r.op != Op::kReattest && !r.nonce.empty()) return stray("\"nonce\"");
  if (r.op != Op::kActivateCredential &&
      (!r.credential_blob.empty() || !r.encrypted_secret.empty())) {
    return stray("credential");
  }
  switch (r.op) {
    case Op::kInfo:
      return absl::OkStatus();
    case Op::kMeasure: {
      if (!r.content.has_value()) {
        return absl::InvalidArgumentError("request: a measure request needs content");
      }
      const CelContent& c = *r.content;
      if (!c.BelongsToLaunch()) {
        return absl::InvalidArgumentError(absl::StrCat("request: unknown measure type \"",
                                                       CelContentTypeName(c.type),
                                                       "\" (launch_manifest or launch_separator)"));
      }
      const std::optional<std::string> digest = c.type == CelContent::Type::kLaunchManifest
                                                    ? std::optional(HexEncode(c.manifest_sha256))
                                                    : std::nullopt;
      ASSIGN_OR_RETURN(CelContent expected,
                       MeasureContent(CelContentTypeName(c.type), c.launch_id, digest));
      if (!(expected == c)) {
        return absl::InvalidArgumentError(
            "request: measure content holds fields its type does not have");
      }
      return absl::OkStatus();
    }
    case Op::kCertify:
      return CheckQualifyingDataSize(r.qualifying_data.size());
    case Op::kLog:
      return CheckLaunchIdField(r.launch_id);
    case Op::kActivateCredential:
      return CheckCredentialFields(r.credential_blob, r.encrypted_secret);
    case Op::kHold:
    case Op::kLaunch:
    case Op::kRelease:
    case Op::kReattest:
      return CheckLaunchOpRequest(r);
  }
  return absl::InvalidArgumentError("request: unknown op");
}

}  // namespace

namespace attestor_api_internal {

// ---------------------------------------------------------------------------
// Response fields. Messages name the key; the reader adds which answer.

absl::StatusOr<std::string> Base64Bytes(const std::optional<std::string>& text,
                                        absl::string_view key, bool allow_empty) {
  absl::StatusOr<std::string> bytes = Base64Decode(*text);
  if (!bytes.ok()) return absl::InvalidArgumentError(absl::StrCat(key, " is not base64"));
  if (bytes->empty() && !allow_empty) {
    return absl::InvalidArgumentError(absl::StrCat(key, " is empty"));
  }
  return bytes;
}

// Lowercase hex of exactly `bytes` bytes, or of any non-zero length when 0.
absl::StatusOr<std::string> HexBytes(const std::optional<std::string>& hex, absl::string_view key,
                                     size_t bytes) {
  const bool length_ok =
      bytes == 0 ? !hex->empty() && hex->size() % 2 == 0 : hex->size() == 2 * bytes;
  if (!length_ok || !IsLowerHex(*hex)) {
    return absl::InvalidArgumentError(
        bytes == 0 ? absl::StrCat(key, " must be lowercase hex")
                   : absl::StrCat(key, " must be ", 2 * bytes, " lowercase hex digits"));
  }
  return HexDecode(*hex);
}

absl::StatusOr<std::string> Encode(Json response, bool ok) {
  response["ok"] = ok;
  return CanonicalJson(response);
}

absl::StatusOr<Envelope> ParseEnvelope(absl::string_view payload) {
  ASSIGN_OR_RETURN(JsonDocument doc, ParseJsonDocumentBorrowing(payload, kResponseLimits));
  const JsonValue* ok = doc.root().is_object() ? doc.root().find("ok") : nullptr;
  if (ok == nullptr || !ok->is_boolean()) {
    return absl::InvalidArgumentError("response: no \"ok\" true/false");
  }
  const bool is_ok = ok->boolean();
  return Envelope{std::move(doc), is_ok};
}

}  // namespace attestor_api_internal

namespace {

// The answers' bodies, "ok" included (the envelope has checked it).

absl::StatusOr<InfoResponse> InfoFromJson(const JsonValue& json) {
  JsonValueFields f(json, "info");
  f.Bool("ok", true);
  std::optional<std::string> ak_public = f.String("ak_public", true);
  std::optional<std::string> ak_name = f.String("ak_name", true);
  std::optional<std::string> ak_qn = f.String("ak_qualified_name", true);
  std::optional<std::string> ek_public = f.String("ek_public", true);
  std::optional<std::string> ek_cert = f.String("ek_certificate", true);
  const JsonValue* reg = f.Object("register", true);
  std::optional<int64_t> reset = f.Int("reset_count", true, 0, UINT32_MAX);
  std::optional<int64_t> restart = f.Int("restart_count", true, 0, UINT32_MAX);
  RETURN_IF_ERROR(f.Finish());
  InfoResponse info;
  ASSIGN_OR_RETURN(info.ak_public, Base64Bytes(ak_public, "ak_public", false));
  ASSIGN_OR_RETURN(info.ak_name, HexBytes(ak_name, "ak_name", 0));
  ASSIGN_OR_RETURN(info.ak_qualified_name, HexBytes(ak_qn, "ak_qualified_name", 0));
  ASSIGN_OR_RETURN(info.ek_public, Base64Bytes(ek_public, "ek_public", false));
  // Empty when the TPM holds no EK certificate (docs/attestor.md).
  ASSIGN_OR_RETURN(info.ek_certificate, Base64Bytes(ek_cert, "ek_certificate", true));
  ASSIGN_OR_RETURN(info.reg, Register::FromJson(*reg));
  info.reset_count = static_cast<uint32_t>(*reset);
  info.restart_count = static_cast<uint32_t>(*restart);
  return info;
}

absl::StatusOr<MeasureResponse> MeasureFromJson(const JsonValue& json) {
  JsonValueFields f(json, "measure");
  f.Bool("ok", true);
  std::optional<int64_t> recnum = f.Int("recnum", true, 0, INT64_MAX);
  RETURN_IF_ERROR(f.Finish());
  return MeasureResponse{.recnum = static_cast<uint64_t>(*recnum)};
}

absl::StatusOr<CertifyResponse> CertifyFromJson(const JsonValue& json) {
  JsonValueFields f(json, "certify");
  f.Bool("ok", true);
  std::optional<std::string> attest = f.String("attest", true);
  std::optional<std::string> signature = f.String("signature", true);
  std::optional<std::string> value = f.String("register_value", true);
  RETURN_IF_ERROR(f.Finish());
  CertifyResponse cert;
  ASSIGN_OR_RETURN(cert.attest, Base64Bytes(attest, "attest", false));
  ASSIGN_OR_RETURN(cert.signature, Base64Bytes(signature, "signature", false));
  ASSIGN_OR_RETURN(std::string raw, HexBytes(value, "register_value", cert.register_value.size()));
  std::copy(raw.begin(), raw.end(), cert.register_value.begin());
  return cert;
}

absl::StatusOr<LogResponse> LogFromJson(const JsonValue& json) {
  JsonValueFields f(json, "log");
  f.Bool("ok", true);
  const JsonValue* records = f.Array("records", true);
  RETURN_IF_ERROR(f.Finish());
  LogResponse log;
  log.records.reserve(records->size());
  for (size_t i = 0; i < records->size(); ++i) {
    absl::StatusOr<CelRecord> record = CelRecord::FromJson((*records)[i], /*allow_redacted=*/true);
    if (!record.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("records[", i, "]: ", record.status().message()));
    }
    log.records.push_back(*std::move(record));
  }
  return log;
}

absl::StatusOr<ActivateCredentialResponse> ActivateCredentialFromJson(const JsonValue& json) {
  JsonValueFields f(json, "activate_credential");
  f.Bool("ok", true);
  std::optional<std::string> credential = f.String("credential", true);
  RETURN_IF_ERROR(f.Finish());
  ActivateCredentialResponse response;
  ASSIGN_OR_RETURN(response.credential, Base64Bytes(credential, "credential", false));
  if (response.credential.size() > kMaxCredentialBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("credential is longer than ", kMaxCredentialBytes, " bytes"));
  }
  return response;
}

}  // namespace

namespace attestor_api_internal {

absl::StatusOr<ErrorResponse> ErrorFromJson(const JsonValue& json) {
  JsonValueFields f(json, "response");
  f.Bool("ok", true);
  const JsonValue* error = f.Object("error", true);
  RETURN_IF_ERROR(f.Finish());
  JsonValueFields e(*error, "error");
  std::optional<std::string> code = e.String("code", true);
  std::optional<std::string> message = e.String("message", true);
  RETURN_IF_ERROR(e.Finish());
  for (const auto& [name, status_code] : kErrorCodes) {
    if (*code == name) {
      ErrorResponse response;
      response.code = status_code;
      response.message = *std::move(message);
      return response;
    }
  }
  return absl::InvalidArgumentError(absl::StrCat("error: unknown error code \"", *code, "\""));
}

}  // namespace attestor_api_internal

// ---------------------------------------------------------------------------
// Requests

AttestorRequest AttestorRequest::Info() { return AttestorRequest{.op = Op::kInfo}; }

absl::StatusOr<AttestorRequest> AttestorRequest::Measure(CelContent content) {
  AttestorRequest r{.op = Op::kMeasure, .content = std::move(content)};
  RETURN_IF_ERROR(CheckRequest(r));
  return r;
}

absl::StatusOr<AttestorRequest> AttestorRequest::Certify(absl::string_view qualifying_data) {
  AttestorRequest r{.op = Op::kCertify, .qualifying_data = std::string(qualifying_data)};
  RETURN_IF_ERROR(CheckRequest(r));
  return r;
}

absl::StatusOr<AttestorRequest> AttestorRequest::Log(absl::string_view launch_id) {
  AttestorRequest r{.op = Op::kLog, .launch_id = std::string(launch_id)};
  RETURN_IF_ERROR(CheckRequest(r));
  return r;
}

absl::StatusOr<AttestorRequest> AttestorRequest::ActivateCredential(
    absl::string_view credential_blob, absl::string_view encrypted_secret) {
  AttestorRequest r{.op = Op::kActivateCredential,
                    .credential_blob = std::string(credential_blob),
                    .encrypted_secret = std::string(encrypted_secret)};
  RETURN_IF_ERROR(CheckRequest(r));
  return r;
}

absl::StatusOr<AttestorRequest> AttestorRequest::Parse(absl::string_view payload) {
  absl::StatusOr<JsonDocument> doc = ParseJsonDocumentBorrowing(payload, kRequestLimits);
  if (!doc.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("request is not valid JSON: ", doc.status().message()));
  }
  const JsonValue& json = doc->root();
  if (!json.is_object()) return absl::InvalidArgumentError("request must be a JSON object");
  JsonValueFields fields(json, "request");
  std::optional<std::string> op = fields.String("op", /*required=*/true);
  if (!op.has_value()) return fields.Finish();

  AttestorRequest request;
  if (*op == "info") {
    request.op = Op::kInfo;
    RETURN_IF_ERROR(fields.Finish());
  } else if (*op == "measure") {
    request.op = Op::kMeasure;
    std::optional<std::string> type = fields.String("type", true);
    std::optional<std::string> launch_id = fields.String("launch_id", true);
    std::optional<std::string> manifest_sha256;
    if (type.has_value() && *type == "launch_manifest") {
      manifest_sha256 = fields.String("manifest_sha256", true);
    }
    RETURN_IF_ERROR(fields.Finish());
    ASSIGN_OR_RETURN(CelContent content, MeasureContent(*type, *launch_id, manifest_sha256));
    request.content = std::move(content);
  } else if (*op == "certify") {
    request.op = Op::kCertify;
    std::optional<std::string> hex = fields.String("qualifying_data", true);
    RETURN_IF_ERROR(fields.Finish());
    absl::StatusOr<std::string> bytes = HexDecode(*hex);
    if (!bytes.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("request: \"qualifying_data\" is not hex: ", bytes.status().message()));
    }
    RETURN_IF_ERROR(CheckQualifyingDataSize(bytes->size()));
    request.qualifying_data = *std::move(bytes);
  } else if (*op == "log") {
    request.op = Op::kLog;
    std::optional<std::string> launch_id = fields.String("launch_id", true);
    RETURN_IF_ERROR(fields.Finish());
    RETURN_IF_ERROR(CheckLaunchIdField(*launch_id));
    request.launch_id = *launch_id;
  } else if (*op == "activate_credential") {
    request.op = Op::kActivateCredential;
    std::optional<std::string> blob = fields.String("credential_blob", true);
    std::optional<std::string> secret = fields.String("encrypted_secret", true);
    RETURN_IF_ERROR(fields.Finish());
    for (auto [text, out, key] : {std::tuple(&blob, &request.credential_blob, "credential_blob"),
                                  std::tuple(&secret, &request.encrypted_secret, "encrypted_secret")}) {
      absl::StatusOr<std::string> bytes = Base64Decode(**text);
      if (!bytes.ok()) {
        return absl::InvalidArgumentError(absl::StrCat("request: \"", key, "\" is not base64"));
      }
      *out = *std::move(bytes);
    }
    RETURN_IF_ERROR(CheckCredentialFields(request.credential_blob, request.encrypted_secret));
  } else if (std::optional<AttestorRequest::Op> launch_op = LaunchOpNamed(*op)) {
    request.op = *launch_op;
    RETURN_IF_ERROR(ParseLaunchOp(fields, request));
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat("request: unknown op \"", *op,
                     "\" (info, measure, certify, log, activate_credential, hold, launch, "
                     "release or reattest)"));
  }
  return request;
}

absl::StatusOr<std::string> AttestorRequest::Serialize() const {
  RETURN_IF_ERROR(CheckRequest(*this));
  Json j = Json::object();
  j["op"] = std::string(OpName(op));
  switch (op) {
    case Op::kInfo:
      break;
    case Op::kMeasure:
      j["type"] = std::string(CelContentTypeName(content->type));
      j["launch_id"] = content->launch_id;
      if (content->type == CelContent::Type::kLaunchManifest) {
        j["manifest_sha256"] = HexEncode(content->manifest_sha256);
      }
      break;
    case Op::kCertify:
      j["qualifying_data"] = HexEncode(qualifying_data);
      break;
    case Op::kLog:
      j["launch_id"] = launch_id;
      break;
    case Op::kActivateCredential:
      j["credential_blob"] = Base64Encode(credential_blob);
      j["encrypted_secret"] = Base64Encode(encrypted_secret);
      break;
    case Op::kHold:
    case Op::kLaunch:
    case Op::kRelease:
    case Op::kReattest:
      SerializeLaunchOp(*this, j);
      break;
  }
  return CanonicalJson(j);
}

// ---------------------------------------------------------------------------
// Responses

absl::StatusOr<InfoResponse> InfoResponse::Parse(absl::string_view payload) {
  return ParseAnswer(payload, &InfoFromJson);
}

absl::StatusOr<std::string> InfoResponse::Serialize() const {
  return Encode(Json{{"ak_public", Base64Encode(ak_public)},
                     {"ak_name", HexEncode(ak_name)},
                     {"ak_qualified_name", HexEncode(ak_qualified_name)},
                     {"ek_public", Base64Encode(ek_public)},
                     {"ek_certificate", Base64Encode(ek_certificate)},
                     {"register", reg.ToJson()},
                     {"reset_count", reset_count},
                     {"restart_count", restart_count}},
                /*ok=*/true);
}

absl::StatusOr<MeasureResponse> MeasureResponse::Parse(absl::string_view payload) {
  return ParseAnswer(payload, &MeasureFromJson);
}

absl::StatusOr<std::string> MeasureResponse::Serialize() const {
  return Encode(Json{{"recnum", recnum}}, /*ok=*/true);
}

absl::StatusOr<CertifyResponse> CertifyResponse::Parse(absl::string_view payload) {
  return ParseAnswer(payload, &CertifyFromJson);
}

absl::StatusOr<std::string> CertifyResponse::Serialize() const {
  return Encode(Json{{"attest", Base64Encode(attest)},
                     {"signature", Base64Encode(signature)},
                     {"register_value", HexEncode(register_value)}},
                /*ok=*/true);
}

absl::StatusOr<LogResponse> LogResponse::Parse(absl::string_view payload) {
  return ParseAnswer(payload, &LogFromJson);
}

absl::StatusOr<std::string> LogResponse::Serialize() const {
  Json list = Json::array();
  for (const CelRecord& r : records) list.push_back(r.ToJson());
  return Encode(Json{{"records", std::move(list)}}, /*ok=*/true);
}

absl::StatusOr<ActivateCredentialResponse> ActivateCredentialResponse::Parse(
    absl::string_view payload) {
  return ParseAnswer(payload, &ActivateCredentialFromJson);
}

absl::StatusOr<std::string> ActivateCredentialResponse::Serialize() const {
  if (credential.empty() || credential.size() > kMaxCredentialBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("credential must be 1 to ", kMaxCredentialBytes, " bytes"));
  }
  return Encode(Json{{"credential", Base64Encode(credential)}}, /*ok=*/true);
}

ErrorResponse::ErrorResponse(const absl::Status& status)
    : code(FoldErrorCode(status.code())), message(status.message()) {}

absl::StatusOr<ErrorResponse> ErrorResponse::Parse(absl::string_view payload) {
  ASSIGN_OR_RETURN(Envelope envelope, ParseEnvelope(payload));
  if (envelope.ok) return absl::InvalidArgumentError("response: \"ok\" is true, not an error");
  return ErrorFromJson(envelope.doc.root());
}

absl::StatusOr<std::string> ErrorResponse::Serialize() const {
  return Encode(Json{{"error", {{"code", std::string(ErrorCodeName(code))}, {"message", message}}}},
                /*ok=*/false);
}

absl::string_view ErrorCodeName(absl::StatusCode code) {
  const absl::StatusCode folded = FoldErrorCode(code);
  for (const auto& [name, status_code] : kErrorCodes) {
    if (status_code == folded) return name;
  }
  return "Internal";
}

absl::StatusOr<AttestorResponse> ParseResponse(AttestorRequest::Op op, absl::string_view payload) {
  ASSIGN_OR_RETURN(Envelope envelope, ParseEnvelope(payload));
  const JsonValue& root = envelope.doc.root();
  if (!envelope.ok) return ErrorFromJson(root);
  switch (op) {
    case AttestorRequest::Op::kInfo:
      return InfoFromJson(root);
    case AttestorRequest::Op::kMeasure:
      return MeasureFromJson(root);
    case AttestorRequest::Op::kCertify:
      return CertifyFromJson(root);
    case AttestorRequest::Op::kLog:
      return LogFromJson(root);
    case AttestorRequest::Op::kActivateCredential:
      return ActivateCredentialFromJson(root);
    case AttestorRequest::Op::kHold:
      return HoldFromJson(root);
    case AttestorRequest::Op::kLaunch:
      return LaunchFromJson(root);
    case AttestorRequest::Op::kRelease:
      return ReleaseFromJson(root);
    case AttestorRequest::Op::kReattest:
      return ReattestFromJson(root);
  }
  return absl::InvalidArgumentError("response to an unknown op");
}

std::string SerializeResponse(const AttestorResponse& response) {
  absl::StatusOr<std::string> text =
      std::visit([](const auto& r) { return r.Serialize(); }, response);
  if (!text.ok()) {
    text = ErrorResponse(absl::InternalError(
                             absl::StrCat("cannot encode the response: ", text.status().message())))
               .Serialize();
  }
  if (text.ok() && text->size() > kMaxFrameBytes) {
    text = ErrorResponse(absl::FailedPreconditionError(absl::StrCat(
                             "the response (", text->size(), " bytes) exceeds the frame limit of ",
                             kMaxFrameBytes, " bytes")))
               .Serialize();
  }
  if (!text.ok()) {
    return R"({"error":{"code":"Internal","message":"cannot encode the response"},"ok":false})";
  }
  return *std::move(text);
}

}  // namespace fdattest
