#include "verifier/enrollment.h"

#include <openssl/crypto.h>

#include <utility>

#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "common/sha256.h"
#include "verifier/make_credential.h"
#include "verifier/tpm_attest.h"
#include "verifier/tpm_identity.h"

namespace fdattest {
namespace {

// The status payload that carries the problem slug.
constexpr absl::string_view kProblemPayload = "type.fdattest.dev/enrollment-problem";
constexpr size_t kIdBytes = 16;

absl::Status Named(absl::Status status, absl::string_view slug) {
  status.SetPayload(kProblemPayload, absl::Cord(slug));
  return status;
}

absl::Status Named(absl::StatusCode code, absl::string_view message, absl::string_view slug) {
  return Named(absl::Status(code, message), slug);
}

absl::StatusOr<std::string> RandomBytes(ServiceContext& context, size_t n, absl::string_view what) {
  if (!context.random) return absl::InternalError("no random source");
  std::string bytes = context.random(n);
  if (bytes.size() != n) {
    return absl::InternalError(absl::StrCat("the random source gave no ", what));
  }
  return bytes;
}

}  // namespace

absl::StatusOr<EnrollmentChallenge> StartEnrollment(ServiceContext& context,
                                                    absl::string_view ek_certificate_der,
                                                    absl::string_view ak_public, bool replace,
                                                    bool caller_is_admin,
                                                    absl::string_view tenant) {
  if (context.store == nullptr || !context.now) return absl::InternalError("no store or clock");
  absl::StatusOr<CertifiedEk> ek = CheckEkCertificate(ek_certificate_der, context.tpm_ca_pem);
  if (!ek.ok()) {
    if (ek.status().code() == absl::StatusCode::kUnauthenticated) {
      return Named(absl::StatusCode::kPermissionDenied, ek.status().message(), "ek-untrusted");
    }
    if (ek.status().code() == absl::StatusCode::kInvalidArgument) {
      return Named(ek.status(), "bad-ek-certificate");
    }
    return ek.status();
  }
  absl::StatusOr<AkPublic> ak = ParseAkPublic(ak_public);
  if (!ak.ok()) {
    return Named(absl::StatusCode::kInvalidArgument, absl::StrCat("AK: ", ak.status().message()),
                 "bad-ak");
  }
  const std::string ak_name_hex = HexEncode(ak->name);
  absl::StatusOr<AttesterRecord> existing = context.store->FindAttesterByAkName(ak_name_hex);
  if (existing.ok() && existing->activated_at != 0) {
    return Named(absl::StatusCode::kAlreadyExists,
                 absl::StrCat("this AK is already enrolled (attester ", existing->id, ", ",
                              AttesterStateName(existing->state), ")"),
                 "ak-already-enrolled");
  }
  if (!existing.ok() && existing.status().code() != absl::StatusCode::kNotFound) {
    return existing.status();
  }

  ASSIGN_OR_RETURN(std::string credential,
                   RandomBytes(context, kEnrollmentCredentialBytes, "credential"));
  absl::StatusOr<MadeCredential> made = MakeCredential(ek->ek_public, ak->name, credential);
  AttesterRecord record;
  record.credential_sha256 = HexEncode(Sha256(credential));
  OPENSSL_cleanse(credential.data(), credential.size());
  // The EK and AK passed their checks: a refusal here is the verifier's bug.
  if (!made.ok()) {
    return absl::InternalError(absl::StrCat("MakeCredential: ", made.status().message()));
  }
  ASSIGN_OR_RETURN(std::string id, RandomBytes(context, kIdBytes, "id"));
  record.id = HexEncode(id);
  record.ek_certificate = std::string(ek_certificate_der);
  record.ek_public = ek->ek_public;
  record.ek_sha256 = HexEncode(Sha256(ek->ek_public));
  record.ak_public = std::string(ak_public);
  record.ak_name = ak_name_hex;
  record.state = AttesterState::kPending;
  record.tenant = std::string(tenant);
  record.created_at = context.now();
  absl::Status added = context.store->AddPendingAttester(record, replace && caller_is_admin);
  if (added.code() == absl::StatusCode::kAlreadyExists) {
    // The store names the conflict in its message; the slug follows the
    // likelier one (a store may keep AK names unique over every record).
    return Named(added, existing.ok() ? "ak-already-enrolled" : "ek-already-enrolled");
  }
  RETURN_IF_ERROR(added);
  return EnrollmentChallenge{.id = record.id,
                             .ak_name = ak->name,
                             .credential_blob = std::move(made->credential_blob),
                             .encrypted_secret = std::move(made->encrypted_secret)};
}

absl::StatusOr<AttesterRecord> FinishEnrollment(ServiceContext& context, absl::string_view id,
                                                absl::string_view answer) {
  if (context.store == nullptr || !context.now) return absl::InternalError("no store or clock");
  absl::Status activated =
      context.store->ActivateAttester(id, HexEncode(Sha256(answer)), context.now());
  switch (activated.code()) {
    case absl::StatusCode::kOk:
      break;
    case absl::StatusCode::kNotFound:
      return Named(activated, "unknown-attester");
    case absl::StatusCode::kPermissionDenied:
      return Named(activated, "activation-failed");
    case absl::StatusCode::kFailedPrecondition:
      return Named(activated, "not-pending");
    case absl::StatusCode::kAlreadyExists:
      return Named(activated, "ek-already-enrolled");
    default:
      return activated;
  }
  return context.store->GetAttester(id);
}

std::string EnrollmentProblem(const absl::Status& status, absl::string_view fallback) {
  auto slug = status.GetPayload(kProblemPayload);  // absl::optional<absl::Cord>
  return slug.has_value() ? std::string(*slug) : std::string(fallback);
}

}  // namespace fdattest
