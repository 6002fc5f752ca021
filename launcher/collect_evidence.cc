#include "launcher/collect_evidence.h"

#include <optional>

#include "absl/strings/str_cat.h"
#include "common/base64.h"

namespace fdattest {
namespace {

absl::Status Inconsistent(absl::string_view why) {
  return absl::DataLossError(absl::StrCat("attestor: inconsistent evidence: ", why));
}

absl::string_view Bytes(const Sha256Digest& d) {
  return absl::string_view(reinterpret_cast<const char*>(d.data()), d.size());
}

// The digest of a served record (already shape-checked by the client).
Sha256Digest RecordDigest(const Json& record) {
  Sha256Digest d{};
  auto raw = HexDecode(record["digests"][0]["digest"].get<std::string>());
  if (raw.ok() && raw->size() == d.size()) std::copy(raw->begin(), raw->end(), d.begin());
  return d;
}

// The register a record names, in the register description's terms.
bool NamesRegister(const Json& record, const Json& reg) {
  const std::string kind = reg["kind"].get<std::string>();
  if (kind == "nv") return record.contains("nv_index") && record["nv_index"] == reg["nv_index"];
  return record.contains("pcr") && record["pcr"] == reg["pcr"];
}

std::optional<std::string> ContentType(const Json& record) {
  if (!record.contains("content")) return std::nullopt;
  return record["content"]["type"].get<std::string>();
}

bool IsOwnRecord(const Json& record, absl::string_view launch_id) {
  if (!record.contains("content")) return false;
  const Json& data = record["content"]["data"];
  return data.contains("launch_id") && data["launch_id"].is_string() &&
         data["launch_id"].get<std::string>() == launch_id;
}

}  // namespace

absl::StatusOr<std::string> BuildEvidence(const EvidenceParts& parts) {
  if (parts.nonce.empty() || parts.nonce.size() > kMaxNonceBytes) {
    return absl::InvalidArgumentError("nonce must be 1..64 bytes");
  }
  const Sha256Digest manifest_sha256 = Sha256(parts.manifest);
  const Sha256Digest qualifying = QualifyingData(parts.nonce, manifest_sha256);
  {
    auto manifest = ParseJsonStrict(parts.manifest);
    if (!manifest.ok() || !manifest->is_object() || !manifest->contains("launch_id") ||
        (*manifest)["launch_id"] != parts.launch_id) {
      return Inconsistent("the manifest's launch_id is not the measured one");
    }
  }
  if (!parts.event_log.is_array()) return Inconsistent("the event log is not an array");

  // The prefix of the served log that the certified value covers.
  Sha256Digest value{};
  std::optional<size_t> end;
  for (size_t i = 0; i < parts.event_log.size(); ++i) {
    value = Sha256(absl::StrCat(Bytes(value), Bytes(RecordDigest(parts.event_log[i]))));
    if (DigestEqual(value, parts.certification.register_value)) {
      end = i + 1;
      break;
    }
  }
  if (!end) return Inconsistent("the served event log does not replay to the certified value");
  Json log = Json::array();
  for (size_t i = 0; i < *end; ++i) log.push_back(parts.event_log[i]);

  std::optional<size_t> manifest_at, separator_at;
  for (size_t i = 0; i < log.size(); ++i) {
    const Json& record = log[i];
    if (!NamesRegister(record, parts.info.register_description)) {
      return Inconsistent(absl::StrCat("record ", i, " names another register"));
    }
    if (!IsOwnRecord(record, parts.launch_id)) continue;
    const std::optional<std::string> type = ContentType(record);
    if (type == "launch_manifest" && !manifest_at) {
      const Json& data = record["content"]["data"];
      if (!DigestEqual(RecordDigest(record), manifest_sha256) ||
          data.value("manifest_sha256", std::string()) != HexEncode(manifest_sha256)) {
        return Inconsistent("the launch_manifest record is not this manifest's digest");
      }
      manifest_at = i;
    } else if (type == "launch_separator" && manifest_at && !separator_at) {
      ASSIGN_OR_RETURN(std::string content, CanonicalJson(record["content"]));
      if (!DigestEqual(RecordDigest(record), Sha256(content))) {
        return Inconsistent("the launch_separator record's digest is not its content's");
      }
      separator_at = i;
    } else {
      return Inconsistent(absl::StrCat("unexpected record ", i, " for this launch"));
    }
  }
  if (!manifest_at || !separator_at) {
    return Inconsistent("the certified log lacks this launch's manifest or separator");
  }

  Json bundle = {
      {"version", kEvidenceVersion},
      {"nonce", HexEncode(parts.nonce)},
      {"qualifying_data", HexEncode(qualifying)},
      {"manifest", Base64Encode(parts.manifest)},
      {"manifest_sha256", HexEncode(manifest_sha256)},
      {"launch_id", parts.launch_id},
      {"attest", Base64Encode(parts.certification.attest)},
      {"signature", Base64Encode(parts.certification.signature)},
      {"ak_public", Base64Encode(parts.info.ak_public)},
      {"ak_qualified_name", HexEncode(parts.info.ak_qualified_name)},
      {"ek_certificate", Base64Encode(parts.info.ek_certificate)},
      {"register", parts.info.register_description},
      {"register_value", HexEncode(parts.certification.register_value)},
      {"event_log", std::move(log)},
      {"reset_count", parts.info.reset_count},
      {"restart_count", parts.info.restart_count},
  };
  return CanonicalJson(bundle);
}

absl::StatusOr<std::string> CollectEvidence(AttestorClient& client, absl::string_view nonce,
                                            absl::string_view launch_id,
                                            absl::string_view manifest) {
  EvidenceParts parts{.nonce = std::string(nonce),
                      .manifest = std::string(manifest),
                      .launch_id = std::string(launch_id)};
  const Sha256Digest qualifying = QualifyingData(nonce, Sha256(manifest));
  ASSIGN_OR_RETURN(parts.certification, client.Certify(Bytes(qualifying)));
  ASSIGN_OR_RETURN(parts.event_log, client.Log(launch_id));
  ASSIGN_OR_RETURN(parts.info, client.Info());
  return BuildEvidence(parts);
}

}  // namespace fdattest
