#include "common/evidence.h"

#include <optional>

#include "absl/strings/str_cat.h"
#include "common/base64.h"
#include "common/json.h"

namespace fdattest {
namespace {

absl::string_view Bytes(const Sha256Digest& d) {
  return absl::string_view(reinterpret_cast<const char*>(d.data()), d.size());
}

absl::Status Bad(absl::string_view key, absl::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat("evidence.", key, " ", why));
}

absl::StatusOr<std::string> HexField(const std::optional<absl::string_view>& value,
                                     absl::string_view key, size_t min_bytes, size_t max_bytes) {
  if (!value) return Bad(key, "is missing");
  if (value->size() < 2 * min_bytes || value->size() > 2 * max_bytes) {
    return Bad(key, absl::StrCat("must be ", min_bytes, "..", max_bytes, " bytes of hex"));
  }
  absl::StatusOr<std::string> raw = HexDecode(*value);
  if (!raw.ok() || !IsLowerHex(*value)) return Bad(key, "must be lowercase hex");
  return raw;
}

absl::StatusOr<Sha256Digest> DigestField(const std::optional<absl::string_view>& value,
                                         absl::string_view key) {
  ASSIGN_OR_RETURN(std::string raw, HexField(value, key, 32, 32));
  Sha256Digest d{};
  std::copy(raw.begin(), raw.end(), d.begin());
  return d;
}

absl::StatusOr<std::string> Base64Field(const std::optional<absl::string_view>& value,
                                        absl::string_view key, size_t max_bytes) {
  if (!value) return Bad(key, "is missing");
  if (value->size() > (max_bytes + 2) / 3 * 4) return Bad(key, "is too large");
  absl::StatusOr<std::string> raw = Base64Decode(*value);
  if (!raw.ok()) return Bad(key, "is not base64");
  if (raw->empty()) return Bad(key, "is empty");
  return raw;
}

}  // namespace

Sha256Digest EvidenceQualifyingData(absl::string_view nonce,
                                    const Sha256Digest& manifest_sha256) {
  return Sha256(absl::StrCat(kQualifyingDataLabel, nonce, Bytes(manifest_sha256)));
}

absl::StatusOr<Evidence> Evidence::Parse(absl::string_view text) {
  if (text.size() > kMaxEvidenceBytes) {
    return absl::InvalidArgumentError("evidence is larger than 4 MiB");
  }
  ASSIGN_OR_RETURN(JsonDocument doc,
                   ParseJsonDocumentBorrowing(text, JsonLimits{.max_bytes = kMaxEvidenceBytes,
                                                              .max_depth = 10}));
  Evidence e;
  JsonValueFields f(doc.root(), "evidence");
  f.Int("version", true, kEvidenceVersion, kEvidenceVersion);
  std::optional<absl::string_view> nonce = f.StringView("nonce", true);
  std::optional<absl::string_view> qualifying = f.StringView("qualifying_data", true);
  std::optional<absl::string_view> manifest = f.StringView("manifest", true);
  std::optional<absl::string_view> manifest_sha256 = f.StringView("manifest_sha256", true);
  std::optional<absl::string_view> launch_id = f.StringView("launch_id", true);
  std::optional<absl::string_view> attest = f.StringView("attest", true);
  std::optional<absl::string_view> signature = f.StringView("signature", true);
  std::optional<absl::string_view> ak_public = f.StringView("ak_public", true);
  std::optional<absl::string_view> ak_qn = f.StringView("ak_qualified_name", true);
  std::optional<absl::string_view> ek_cert = f.StringView("ek_certificate", true);
  const JsonValue* reg = f.Object("register", true);
  std::optional<absl::string_view> register_value = f.StringView("register_value", true);
  const JsonValue* log = f.Array("event_log", true);
  std::optional<int64_t> reset_count = f.Int("reset_count", true, 0, UINT32_MAX);
  std::optional<int64_t> restart_count = f.Int("restart_count", true, 0, UINT32_MAX);
  RETURN_IF_ERROR(f.Finish());

  ASSIGN_OR_RETURN(e.nonce, HexField(nonce, "nonce", 1, kMaxNonceBytes));
  ASSIGN_OR_RETURN(e.qualifying_data, DigestField(qualifying, "qualifying_data"));
  ASSIGN_OR_RETURN(e.manifest, Base64Field(manifest, "manifest", 1 << 20));
  ASSIGN_OR_RETURN(e.manifest_sha256, DigestField(manifest_sha256, "manifest_sha256"));
  if (launch_id->size() != 32 || !IsLowerHex(*launch_id)) {
    return Bad("launch_id", "must be 32 lowercase hex digits");
  }
  e.launch_id = std::string(*launch_id);
  ASSIGN_OR_RETURN(e.attest, Base64Field(attest, "attest", 1024));
  ASSIGN_OR_RETURN(e.signature, Base64Field(signature, "signature", 1024));
  ASSIGN_OR_RETURN(e.ak_public, Base64Field(ak_public, "ak_public", 1024));
  ASSIGN_OR_RETURN(e.ak_qualified_name, HexField(ak_qn, "ak_qualified_name", 34, 34));
  ASSIGN_OR_RETURN(e.ek_certificate, Base64Field(ek_cert, "ek_certificate", 16384));
  ASSIGN_OR_RETURN(e.reg, Register::FromJson(*reg));
  ASSIGN_OR_RETURN(e.register_value, DigestField(register_value, "register_value"));
  e.reset_count = static_cast<uint32_t>(*reset_count);
  e.restart_count = static_cast<uint32_t>(*restart_count);

  if (log->empty()) return Bad("event_log", "is empty");
  if (log->size() > kMaxEvidenceLogRecords) return Bad("event_log", "has too many records");
  e.event_log.reserve(log->size());
  for (size_t i = 0; i < log->size(); ++i) {
    absl::StatusOr<CelRecord> record = CelRecord::FromJson((*log)[i], /*allow_redacted=*/true);
    if (!record.ok()) {
      return Bad(absl::StrCat("event_log[", i, "]"), record.status().message());
    }
    if (!(record->reg == e.reg)) {
      return Bad(absl::StrCat("event_log[", i, "]"), "names another register");
    }
    e.event_log.push_back(*std::move(record));
  }

  if (!DigestEqual(Sha256(e.manifest), e.manifest_sha256)) {
    return Bad("manifest_sha256", "is not the sha256 of the manifest");
  }
  if (!DigestEqual(EvidenceQualifyingData(e.nonce, e.manifest_sha256), e.qualifying_data)) {
    return Bad("qualifying_data", "is not the one the nonce and manifest define");
  }
  // One spelling per bundle, as the launcher writes it.
  if (!doc.canonical()) return absl::InvalidArgumentError("evidence is not in canonical form");
  return e;
}

absl::StatusOr<std::string> Evidence::Serialize() const {
  Json log = Json::array();
  for (const CelRecord& record : event_log) log.push_back(record.ToJson());
  return CanonicalJson(Json{
      {"version", kEvidenceVersion},
      {"nonce", HexEncode(nonce)},
      {"qualifying_data", HexEncode(qualifying_data)},
      {"manifest", Base64Encode(manifest)},
      {"manifest_sha256", HexEncode(manifest_sha256)},
      {"launch_id", launch_id},
      {"attest", Base64Encode(attest)},
      {"signature", Base64Encode(signature)},
      {"ak_public", Base64Encode(ak_public)},
      {"ak_qualified_name", HexEncode(ak_qualified_name)},
      {"ek_certificate", Base64Encode(ek_certificate)},
      {"register", reg.ToJson()},
      {"register_value", HexEncode(register_value)},
      {"event_log", std::move(log)},
      {"reset_count", reset_count},
      {"restart_count", restart_count},
  });
}

}  // namespace fdattest
