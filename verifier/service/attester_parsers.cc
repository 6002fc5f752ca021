#include "verifier/service/attester_parsers.h"

#include <optional>

#include "absl/strings/str_cat.h"
#include "common/base64.h"
#include "common/json.h"
#include "verifier/store.h"

namespace fdattest {
namespace {

// An enrollment body carries a certificate (at most 16 KiB of DER) and a
// public area in base64; an activation body 44 characters.
constexpr JsonLimits kBodyLimits{.max_bytes = 64 * 1024, .max_depth = 2, .max_values = 16};

absl::StatusOr<std::string> Base64Field(const std::optional<std::string>& text,
                                        absl::string_view key) {
  absl::StatusOr<std::string> bytes = Base64Decode(*text);
  if (!bytes.ok() || bytes->empty()) {
    return absl::InvalidArgumentError(absl::StrCat("\"", key, "\" must be non-empty base64"));
  }
  return bytes;
}

}  // namespace

absl::StatusOr<EnrollBody> ParseEnrollBody(absl::string_view body) {
  ASSIGN_OR_RETURN(JsonDocument doc, ParseJsonDocumentBorrowing(body, kBodyLimits));
  JsonValueFields f(doc.root(), "body");
  std::optional<std::string> ek = f.String("ek_certificate", true);
  std::optional<std::string> ak = f.String("ak_public", true);
  std::optional<bool> replace = f.Bool("replace", false);
  std::optional<std::string> tenant = f.String("tenant", false);
  RETURN_IF_ERROR(f.Finish());
  EnrollBody out;
  ASSIGN_OR_RETURN(out.ek_certificate, Base64Field(ek, "ek_certificate"));
  ASSIGN_OR_RETURN(out.ak_public, Base64Field(ak, "ak_public"));
  out.replace = replace.value_or(false);
  if (tenant) {
    if (absl::Status s = CheckTenantId(*tenant); !s.ok()) {
      return absl::InvalidArgumentError("\"tenant\" must be 1..64 of A-Z a-z 0-9 . _ -");
    }
    out.tenant = *tenant;
  }
  return out;
}

absl::StatusOr<std::string> ParseActivateBody(absl::string_view body) {
  ASSIGN_OR_RETURN(JsonDocument doc, ParseJsonDocumentBorrowing(body, kBodyLimits));
  JsonValueFields f(doc.root(), "body");
  std::optional<std::string> secret = f.String("secret", true);
  RETURN_IF_ERROR(f.Finish());
  return Base64Field(secret, "secret");
}

}  // namespace fdattest
