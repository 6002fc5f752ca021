#include "launcher/enroll.h"

#include <openssl/crypto.h>

#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/base64.h"
#include "common/json.h"
#include "common/sha256.h"

namespace fdattest {
namespace {

constexpr JsonLimits kAnswerLimits{.max_bytes = 64 * 1024, .max_depth = 2, .max_values = 16};

absl::Status Verifier(const absl::Status& status) {
  return absl::Status(status.code(), absl::StrCat("verifier: ", status.message()));
}

absl::StatusOr<std::string> Base64Member(const std::optional<std::string>& text,
                                         absl::string_view key) {
  absl::StatusOr<std::string> bytes = Base64Decode(*text);
  if (!bytes.ok() || bytes->empty()) {
    return absl::InvalidArgumentError(absl::StrCat("\"", key, "\" is not non-empty base64"));
  }
  return bytes;
}

absl::Status CheckId(absl::string_view id) {
  if (id.size() != 32 || !IsLowerHex(id)) {
    return absl::InvalidArgumentError("\"id\" is not 32 lowercase hex digits");
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::string> EnrollRequestBody(const InfoResponse& info, bool replace) {
  if (info.ek_certificate.empty()) {
    return absl::InvalidArgumentError(
        "attestor: the TPM holds no EK certificate, so the verifier cannot check its EK");
  }
  return CanonicalJson(Json{{"ek_certificate", Base64Encode(info.ek_certificate)},
                            {"ak_public", Base64Encode(info.ak_public)},
                            {"replace", replace}});
}

absl::StatusOr<EnrollChallenge> ParseEnrollResponse(absl::string_view body) {
  absl::StatusOr<EnrollChallenge> out = [&]() -> absl::StatusOr<EnrollChallenge> {
    ASSIGN_OR_RETURN(JsonDocument doc, ParseJsonDocumentBorrowing(body, kAnswerLimits));
    JsonValueFields f(doc.root(), "enrollment");
    std::optional<std::string> id = f.String("id", true);
    std::optional<std::string> state = f.String("state", true);
    std::optional<std::string> ak_name = f.String("ak_name", true);
    std::optional<std::string> blob = f.String("credential_blob", true);
    std::optional<std::string> secret = f.String("encrypted_secret", true);
    RETURN_IF_ERROR(f.Finish());
    RETURN_IF_ERROR(CheckId(*id));
    if (*state != "pending") {
      return absl::InvalidArgumentError(absl::StrCat("state \"", *state, "\", not pending"));
    }
    EnrollChallenge c;
    c.id = *id;
    absl::StatusOr<std::string> name = HexDecode(*ak_name);
    if (!IsLowerHex(*ak_name) || !name.ok() || name->empty()) {
      return absl::InvalidArgumentError("\"ak_name\" is not lowercase hex");
    }
    c.ak_name = *std::move(name);
    ASSIGN_OR_RETURN(c.credential_blob, Base64Member(blob, "credential_blob"));
    ASSIGN_OR_RETURN(c.encrypted_secret, Base64Member(secret, "encrypted_secret"));
    return c;
  }();
  if (!out.ok()) {
    return Verifier(absl::Status(out.status().code(),
                                 absl::StrCat("the enrollment answer: ", out.status().message())));
  }
  return out;
}

std::string ActivateRequestBody(absl::string_view credential) {
  return Json{{"secret", Base64Encode(credential)}}.dump();
}

absl::Status CheckActivateResponse(absl::string_view body, absl::string_view id) {
  absl::Status checked = [&]() -> absl::Status {
    ASSIGN_OR_RETURN(JsonDocument doc, ParseJsonDocumentBorrowing(body, kAnswerLimits));
    JsonValueFields f(doc.root(), "activation");
    std::optional<std::string> got_id = f.String("id", true);
    std::optional<std::string> state = f.String("state", true);
    RETURN_IF_ERROR(f.Finish());
    if (*got_id != id) return absl::InvalidArgumentError("the answer names another attester");
    if (*state != "active") {
      return absl::InvalidArgumentError(absl::StrCat("state \"", *state, "\", not active"));
    }
    return absl::OkStatus();
  }();
  if (checked.ok()) return checked;
  return Verifier(
      absl::Status(checked.code(), absl::StrCat("the activation answer: ", checked.message())));
}

absl::StatusOr<std::string> Enroll(AttestorClient& attestor, const HttpsClient& verifier,
                                   bool replace) {
  ASSIGN_OR_RETURN(InfoResponse info, attestor.Info());
  ASSIGN_OR_RETURN(std::string request, EnrollRequestBody(info, replace));
  absl::StatusOr<std::string> answer = verifier.PostJson("/v1/attesters", request);
  if (!answer.ok()) return Verifier(answer.status());
  ASSIGN_OR_RETURN(EnrollChallenge challenge, ParseEnrollResponse(*answer));
  // The verifier must have bound the credential to this attestor's AK; the
  // TPM would refuse anything else, but say so plainly.
  if (challenge.ak_name != info.ak_name) {
    return absl::InvalidArgumentError(absl::StrCat(
        "verifier: the credential names AK ", HexEncode(challenge.ak_name),
        ", not the attestor's ", HexEncode(info.ak_name)));
  }
  ASSIGN_OR_RETURN(std::string credential, attestor.ActivateCredential(challenge.credential_blob,
                                                                       challenge.encrypted_secret));
  std::string body = ActivateRequestBody(credential);
  OPENSSL_cleanse(credential.data(), credential.size());
  absl::StatusOr<std::string> activated =
      verifier.PostJson(absl::StrCat("/v1/attesters/", challenge.id, "/activate"), body);
  OPENSSL_cleanse(body.data(), body.size());
  if (!activated.ok()) return Verifier(activated.status());
  RETURN_IF_ERROR(CheckActivateResponse(*activated, challenge.id));
  return challenge.id;
}

}  // namespace fdattest
