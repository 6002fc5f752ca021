#include "verifier/audit/archive_records.h"

#include <algorithm>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/base64.h"
#include "common/json.h"
#include "common/sha256.h"
#include "verifier/store.h"

namespace fdattest {
namespace {

constexpr absl::string_view kLeafHeader = "fdattest-audit-leaf/v1";
constexpr size_t kLeafLines = 10;
constexpr size_t kMaxAkNameHexDigits = 256;
constexpr size_t kMaxAkPublicBytes = 4096;
constexpr size_t kMaxRefusalBytes = 512;

absl::Status Invalid(absl::string_view what, absl::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat(what, ": ", why));
}

absl::Status CheckHex(absl::string_view what, absl::string_view value, size_t digits) {
  if (value.size() != digits || !IsLowerHex(value)) {
    return Invalid(what, absl::StrCat("must be ", digits, " lowercase hex digits"));
  }
  return absl::OkStatus();
}

absl::Status CheckPolicyId(absl::string_view id) {
  bool ok = !id.empty() && id.size() <= 128;
  for (char c : id) {
    ok = ok && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                c == '.' || c == '_' || c == '-');
  }
  return ok ? absl::OkStatus() : Invalid("policy id", "must be 1..128 of A-Z a-z 0-9 . _ -");
}

absl::Status CheckVerdict(absl::string_view verdict) {
  for (absl::string_view known : {"affirming", "warning", "contraindicated", "broken_evidence"}) {
    if (verdict == known) return absl::OkStatus();
  }
  return Invalid("verdict", "must be affirming, warning, contraindicated or broken_evidence");
}

absl::Status CheckPolicy(absl::string_view id, int64_t version, absl::string_view sha256) {
  RETURN_IF_ERROR(CheckPolicyId(id));
  if (version < 1) return Invalid("policy version", "must be 1 or more");
  return CheckHex("policy sha256", sha256, 64);
}

// A decimal without sign or leading zeros ("0" itself is fine) that fits.
absl::StatusOr<int64_t> ParseDecimal(absl::string_view what, absl::string_view text) {
  bool digits = !text.empty() && text.size() <= 19 && (text == "0" || text[0] != '0');
  for (char c : text) digits = digits && c >= '0' && c <= '9';
  int64_t value = 0;
  if (!digits || !absl::SimpleAtoi(text, &value) || value < 0) {
    return Invalid(what, "must be a decimal number without sign or leading zeros");
  }
  return value;
}

}  // namespace

// --- The leaf.

absl::Status AuditLeaf::Validate() const {
  RETURN_IF_ERROR(CheckHex("result id", result_id, 32));
  if (time < 0) return Invalid("time", "must not be negative");
  RETURN_IF_ERROR(CheckTenantId(tenant));
  if (!attester_id.empty()) RETURN_IF_ERROR(CheckHex("attester id", attester_id, 32));
  RETURN_IF_ERROR(CheckPolicy(policy_id, policy_version, policy_sha256));
  RETURN_IF_ERROR(CheckHex("evidence sha256", evidence_sha256, 64));
  RETURN_IF_ERROR(CheckHex("result-sha256", result_sha256, 64));
  RETURN_IF_ERROR(CheckHex("decision-sha256", decision_sha256, 64));
  return CheckVerdict(verdict);
}

std::string AuditLeaf::Serialize() const {
  return absl::StrCat(kLeafHeader, "\n",                                           //
                      "result ", result_id, "\n",                                  //
                      "time ", time, "\n",                                         //
                      "tenant ", tenant, "\n",                                     //
                      "attester ", attester_id.empty() ? "-" : attester_id, "\n",  //
                      "policy ", policy_id, " ", policy_version, " ", policy_sha256, "\n",
                      "evidence ", evidence_sha256, "\n",         //
                      "result-sha256 ", result_sha256, "\n",      //
                      "decision-sha256 ", decision_sha256, "\n",  //
                      "verdict ", verdict, "\n");
}

absl::StatusOr<AuditLeaf> AuditLeaf::Parse(absl::string_view data) {
  if (data.size() > kMaxAuditLeafBytes) {
    return Invalid("audit leaf", absl::StrCat("longer than ", kMaxAuditLeafBytes, " bytes"));
  }
  if (data.empty() || data.back() != '\n') return Invalid("audit leaf", "must end with a newline");
  std::vector<absl::string_view> lines = absl::StrSplit(data.substr(0, data.size() - 1), '\n');
  if (lines.size() != kLeafLines) {
    return Invalid("audit leaf", absl::StrCat("must have exactly ", kLeafLines, " lines"));
  }
  if (lines[0] != kLeafHeader)
    return Invalid("audit leaf", "must start with fdattest-audit-leaf/v1");
  // Each further line is "<key> <value>", in this order.
  const absl::string_view keys[] = {"result", "time",     "tenant",        "attester",
                                    "policy", "evidence", "result-sha256", "decision-sha256",
                                    "verdict"};
  std::vector<absl::string_view> values;
  for (size_t i = 0; i < std::size(keys); ++i) {
    absl::string_view line = lines[i + 1];
    if (line.size() <= keys[i].size() + 1 || line.substr(0, keys[i].size()) != keys[i] ||
        line[keys[i].size()] != ' ') {
      return Invalid("audit leaf", absl::StrCat("line ", i + 2, " must be \"", keys[i], " ...\""));
    }
    values.push_back(line.substr(keys[i].size() + 1));
  }
  AuditLeaf leaf;
  leaf.result_id = std::string(values[0]);
  ASSIGN_OR_RETURN(leaf.time, ParseDecimal("time", values[1]));
  leaf.tenant = std::string(values[2]);
  if (values[3] != "-") leaf.attester_id = std::string(values[3]);
  std::vector<absl::string_view> policy = absl::StrSplit(values[4], ' ');
  if (policy.size() != 3) return Invalid("policy", "must be \"<id> <version> <sha256>\"");
  leaf.policy_id = std::string(policy[0]);
  ASSIGN_OR_RETURN(leaf.policy_version, ParseDecimal("policy version", policy[1]));
  leaf.policy_sha256 = std::string(policy[2]);
  leaf.evidence_sha256 = std::string(values[5]);
  leaf.result_sha256 = std::string(values[6]);
  leaf.decision_sha256 = std::string(values[7]);
  leaf.verdict = std::string(values[8]);
  RETURN_IF_ERROR(leaf.Validate());
  // Whatever a line could still spell differently (none known) is refused.
  if (leaf.Serialize() != data) return Invalid("audit leaf", "is not in its canonical form");
  return leaf;
}

// --- The decision record.

bool DecisionRecord::operator==(const DecisionRecord& o) const {
  auto counters = [](const std::optional<TpmCounters>& c) {
    return c ? std::make_tuple(true, c->clock, c->reset_count, c->restart_count)
             : std::make_tuple(false, uint64_t{0}, uint32_t{0}, uint32_t{0});
  };
  return result_id == o.result_id && time == o.time && nonce_expires_at == o.nonce_expires_at &&
         attester == o.attester && counters(previous_counters) == counters(o.previous_counters) &&
         policy_id == o.policy_id && policy_version == o.policy_version &&
         policy_sha256 == o.policy_sha256 && evidence_sha256 == o.evidence_sha256 &&
         evidence_bytes_sha256 == o.evidence_bytes_sha256 && tenant == o.tenant && nonce_refusal == o.nonce_refusal &&
         identity_refusal == o.identity_refusal && tpm_ca_sha256 == o.tpm_ca_sha256;
}

absl::Status DecisionRecord::Validate() const {
  RETURN_IF_ERROR(CheckHex("result id", result_id, 32));
  if (time < 0) return Invalid("time", "must not be negative");
  if (nonce_expires_at < 0) return Invalid("nonce_expires_at", "must not be negative");
  if (attester) {
    RETURN_IF_ERROR(CheckHex("attester id", attester->id, 32));
    if (attester->ak_name.empty() || attester->ak_name.size() > kMaxAkNameHexDigits ||
        attester->ak_name.size() % 2 != 0 || !IsLowerHex(attester->ak_name)) {
      return Invalid("attester ak_name", "must be 2..256 lowercase hex digits");
    }
    if (attester->ak_public.empty() || attester->ak_public.size() > kMaxAkPublicBytes) {
      return Invalid("attester ak_public", "must be 1..4096 bytes");
    }
    if (attester->state != "active") return Invalid("attester state", "must be active");
  }
  RETURN_IF_ERROR(CheckPolicy(policy_id, policy_version, policy_sha256));
  RETURN_IF_ERROR(CheckHex("evidence_sha256", evidence_sha256, 64));
  RETURN_IF_ERROR(CheckHex("evidence_bytes_sha256", evidence_bytes_sha256, 64));
  for (const auto& [name, text] : {std::pair<absl::string_view, const std::string*>{
                                       "nonce_refusal", &nonce_refusal},
                                   {"identity_refusal", &identity_refusal}}) {
    if (text->size() > kMaxRefusalBytes ||
        !std::all_of(text->begin(), text->end(), [](char c) { return c >= 0x20 && c < 0x7f; })) {
      return Invalid(name, "must be at most 512 bytes of printable ASCII");
    }
  }
  if (!tpm_ca_sha256.empty()) RETURN_IF_ERROR(CheckHex("tpm_ca_sha256", tpm_ca_sha256, 64));
  return CheckTenantId(tenant);
}

std::string DecisionRecord::Serialize() const {
  Json record = Json::object();
  record["version"] = kVersion;
  record["result_id"] = result_id;
  record["time"] = time;
  record["nonce_expires_at"] = nonce_expires_at;
  record["attester"] = nullptr;
  if (attester) {
    record["attester"] = Json{{"id", attester->id},
                              {"ak_name", attester->ak_name},
                              {"ak_public", Base64Encode(attester->ak_public)},
                              {"state", attester->state}};
  }
  record["previous_counters"] = nullptr;
  if (previous_counters) {
    record["previous_counters"] = Json{{"reset", previous_counters->reset_count},
                                       {"restart", previous_counters->restart_count},
                                       {"clock", previous_counters->clock}};
  }
  record["policy"] =
      Json{{"id", policy_id}, {"version", policy_version}, {"sha256", policy_sha256}};
  record["evidence_sha256"] = evidence_sha256;
  record["evidence_bytes_sha256"] = evidence_bytes_sha256;
  record["tenant"] = tenant;
  record["nonce_refusal"] = nonce_refusal;
  record["identity_refusal"] = identity_refusal;
  record["tpm_ca_sha256"] = tpm_ca_sha256;
  // Keys sorted (nlohmann's objects are ordered maps), no whitespace; every
  // string of a valid record is ASCII, so nothing is escaped differently.
  return record.dump(-1, ' ', false, Json::error_handler_t::replace);
}

namespace {

const JsonValue* Member(const JsonValue& object, absl::string_view key) {
  return object.is_object() ? object.find(key) : nullptr;
}

absl::StatusOr<std::string> StringMember(const JsonValue& object, absl::string_view key) {
  const JsonValue* v = Member(object, key);
  if (v == nullptr || !v->is_string()) return Invalid(key, "must be a string");
  return std::string(v->str());
}

absl::StatusOr<int64_t> IntMember(const JsonValue& object, absl::string_view key) {
  const JsonValue* v = Member(object, key);
  if (v == nullptr || !v->is_number_integer() ||
      (v->is_number_unsigned() && v->uint64() > static_cast<uint64_t>(INT64_MAX))) {
    return Invalid(key, "must be a 64-bit integer");
  }
  return v->int64();
}

absl::StatusOr<uint64_t> UintMember(const JsonValue& object, absl::string_view key, uint64_t max) {
  const JsonValue* v = Member(object, key);
  if (v == nullptr || !v->is_number_unsigned() || v->uint64() > max) {
    return Invalid(key, absl::StrCat("must be an integer 0..", max));
  }
  return v->uint64();
}

}  // namespace

absl::StatusOr<DecisionRecord> DecisionRecord::Parse(absl::string_view json) {
  ASSIGN_OR_RETURN(JsonDocument doc, ParseJsonDocument(json, JsonLimits{.max_bytes = 64 << 10}));
  const JsonValue& root = doc.root();
  if (!root.is_object()) return Invalid("decision record", "must be a JSON object");
  ASSIGN_OR_RETURN(int64_t version, IntMember(root, "version"));
  if (version != kVersion) return Invalid("decision record", "has an unknown version");
  DecisionRecord record;
  ASSIGN_OR_RETURN(record.result_id, StringMember(root, "result_id"));
  ASSIGN_OR_RETURN(record.time, IntMember(root, "time"));
  ASSIGN_OR_RETURN(record.nonce_expires_at, IntMember(root, "nonce_expires_at"));
  const JsonValue* attester = Member(root, "attester");
  if (attester == nullptr || !(attester->is_null() || attester->is_object())) {
    return Invalid("attester", "must be an object or null");
  }
  if (attester->is_object()) {
    DecisionAttester a;
    ASSIGN_OR_RETURN(a.id, StringMember(*attester, "id"));
    ASSIGN_OR_RETURN(a.ak_name, StringMember(*attester, "ak_name"));
    ASSIGN_OR_RETURN(std::string ak_public, StringMember(*attester, "ak_public"));
    ASSIGN_OR_RETURN(a.ak_public, Base64Decode(ak_public));
    ASSIGN_OR_RETURN(a.state, StringMember(*attester, "state"));
    record.attester = std::move(a);
  }
  const JsonValue* counters = Member(root, "previous_counters");
  if (counters == nullptr || !(counters->is_null() || counters->is_object())) {
    return Invalid("previous_counters", "must be an object or null");
  }
  if (counters->is_object()) {
    TpmCounters c;
    ASSIGN_OR_RETURN(uint64_t reset, UintMember(*counters, "reset", UINT32_MAX));
    ASSIGN_OR_RETURN(uint64_t restart, UintMember(*counters, "restart", UINT32_MAX));
    ASSIGN_OR_RETURN(c.clock, UintMember(*counters, "clock", UINT64_MAX));
    c.reset_count = static_cast<uint32_t>(reset);
    c.restart_count = static_cast<uint32_t>(restart);
    record.previous_counters = c;
  }
  const JsonValue* policy = Member(root, "policy");
  if (policy == nullptr || !policy->is_object()) return Invalid("policy", "must be an object");
  ASSIGN_OR_RETURN(record.policy_id, StringMember(*policy, "id"));
  ASSIGN_OR_RETURN(record.policy_version, IntMember(*policy, "version"));
  ASSIGN_OR_RETURN(record.policy_sha256, StringMember(*policy, "sha256"));
  ASSIGN_OR_RETURN(record.evidence_sha256, StringMember(root, "evidence_sha256"));
  ASSIGN_OR_RETURN(record.evidence_bytes_sha256, StringMember(root, "evidence_bytes_sha256"));
  ASSIGN_OR_RETURN(record.tenant, StringMember(root, "tenant"));
  ASSIGN_OR_RETURN(record.nonce_refusal, StringMember(root, "nonce_refusal"));
  ASSIGN_OR_RETURN(record.identity_refusal, StringMember(root, "identity_refusal"));
  ASSIGN_OR_RETURN(record.tpm_ca_sha256, StringMember(root, "tpm_ca_sha256"));
  RETURN_IF_ERROR(record.Validate());
  // Exactly the canonical bytes: no other key, no whitespace, keys in order.
  if (record.Serialize() != json) {
    return Invalid("decision record",
                   "is not the canonical JSON of its fields (or has unknown keys)");
  }
  return record;
}

}  // namespace fdattest
