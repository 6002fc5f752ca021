#include "common/sha256.h"
#include "common/cel.h"

#include <algorithm>
#include <limits>

#include "absl/strings/str_cat.h"

namespace fdattest {
namespace {

constexpr absl::string_view kSha256 = "sha256";

absl::Status CheckLaunchId(absl::string_view id) {
  if (id.size() != 32 || !IsLowerHex(id)) {
    return absl::InvalidArgumentError(
        absl::StrCat("launch id \"", id, "\" is not 32 lowercase hex digits"));
  }
  return absl::OkStatus();
}

absl::StatusOr<Sha256Digest> ParseDigestHex(absl::string_view hex, absl::string_view what) {
  if (hex.size() != 64 || !IsLowerHex(hex)) {
    return absl::InvalidArgumentError(absl::StrCat(what, " is not 64 lowercase hex digits"));
  }
  ASSIGN_OR_RETURN(std::string bytes, HexDecode(hex));
  Sha256Digest d{};
  std::copy(bytes.begin(), bytes.end(), d.begin());
  return d;
}

std::string Hex(const Sha256Digest& d) { return HexEncode(d); }

std::string Short(const Sha256Digest& d) { return Hex(d).substr(0, 16) + "…"; }

}  // namespace

Sha256Digest ExtendRegister(const Sha256Digest& old_value, const Sha256Digest& digest) {
  std::string buf;
  buf.reserve(64);
  buf.append(reinterpret_cast<const char*>(old_value.data()), old_value.size());
  buf.append(reinterpret_cast<const char*>(digest.data()), digest.size());
  return Sha256(buf);
}

// ---------------------------------------------------------------------------
// CelContent

absl::string_view CelContentTypeName(CelContent::Type type) {
  switch (type) {
    case CelContent::Type::kEpoch:
      return "epoch";
    case CelContent::Type::kLaunchManifest:
      return "launch_manifest";
    case CelContent::Type::kLaunchSeparator:
      return "launch_separator";
    case CelContent::Type::kLaunchObservation:
      return "launch_observation";
  }
  return "?";
}

namespace {

absl::string_view ObservationKindName(CelContent::ObservationKind kind) {
  return kind == CelContent::ObservationKind::kLoad ? "load" : "alive";
}

absl::Status CheckObservationFields(const CelContent& c) {
  const bool alive = c.observation_kind == CelContent::ObservationKind::kAlive;
  if (c.nonce.size() > 64 || (alive && c.nonce.empty())) {
    return absl::InvalidArgumentError(absl::StrCat("launch_observation: the nonce of ",
                                                   alive ? "an alive" : "a load",
                                                   " observation must be ", alive ? "1" : "0",
                                                   "..64 bytes; got ", c.nonce.size()));
  }
  if (c.peer_exe_sha256.size() != 64 || !IsLowerHex(c.peer_exe_sha256)) {
    return absl::InvalidArgumentError(
        "launch_observation: peer_exe_sha256 is not 64 lowercase hex digits");
  }
  if (c.observation.has_value() == !c.not_observed.empty()) {
    return absl::InvalidArgumentError(
        "launch_observation: exactly one of an observation and a not_observed reason");
  }
  if (c.not_observed.size() > 1024) {
    return absl::InvalidArgumentError("launch_observation: not_observed is too long");
  }
  return absl::OkStatus();
}

}  // namespace

CelContent CelContent::Epoch(uint32_t reset_count, uint32_t restart_count) {
  CelContent c;
  c.type = Type::kEpoch;
  c.reset_count = reset_count;
  c.restart_count = restart_count;
  return c;
}

absl::StatusOr<CelContent> CelContent::LaunchManifest(absl::string_view launch_id,
                                                      absl::string_view manifest_bytes) {
  return LaunchManifestDigest(launch_id, Sha256(manifest_bytes));
}

absl::StatusOr<CelContent> CelContent::LaunchManifestDigest(absl::string_view launch_id,
                                                            const Sha256Digest& manifest_sha256) {
  RETURN_IF_ERROR(CheckLaunchId(launch_id));
  CelContent c;
  c.type = Type::kLaunchManifest;
  c.launch_id = std::string(launch_id);
  c.manifest_sha256 = manifest_sha256;
  return c;
}

absl::StatusOr<CelContent> CelContent::LaunchSeparator(absl::string_view launch_id) {
  RETURN_IF_ERROR(CheckLaunchId(launch_id));
  CelContent c;
  c.type = Type::kLaunchSeparator;
  c.launch_id = std::string(launch_id);
  return c;
}

absl::StatusOr<CelContent> CelContent::LaunchObservation(
    absl::string_view launch_id, ObservationKind kind, absl::string_view nonce,
    absl::string_view peer_exe_sha256, std::optional<KernelObservation> observation,
    absl::string_view not_observed) {
  RETURN_IF_ERROR(CheckLaunchId(launch_id));
  CelContent c;
  c.type = Type::kLaunchObservation;
  c.launch_id = std::string(launch_id);
  c.observation_kind = kind;
  c.nonce = std::string(nonce);
  c.peer_exe_sha256 = std::string(peer_exe_sha256);
  c.observation = std::move(observation);
  c.not_observed = std::string(not_observed);
  RETURN_IF_ERROR(CheckObservationFields(c));
  return c;
}

absl::StatusOr<CelContent> CelContent::FromJson(const JsonValue& json) {
  JsonValueFields f(json, "content");
  std::optional<std::string> type = f.String("type", true);
  const JsonValue* data = f.Object("data", true);
  RETURN_IF_ERROR(f.Finish());
  JsonValueFields df(*data, "content.data");
  CelContent c;
  if (type == "epoch") {
    c.type = Type::kEpoch;
    auto reset = df.Int("reset_count", true, 0, std::numeric_limits<uint32_t>::max());
    auto restart = df.Int("restart_count", true, 0, std::numeric_limits<uint32_t>::max());
    RETURN_IF_ERROR(df.Finish());
    c.reset_count = static_cast<uint32_t>(*reset);
    c.restart_count = static_cast<uint32_t>(*restart);
    return c;
  }
  if (type == "launch_manifest" || type == "launch_separator") {
    std::optional<std::string> id = df.String("launch_id", true);
    std::optional<std::string> digest;
    if (type == "launch_manifest") digest = df.String("manifest_sha256", true);
    RETURN_IF_ERROR(df.Finish());
    RETURN_IF_ERROR(CheckLaunchId(*id));
    c.launch_id = *id;
    if (type == "launch_separator") {
      c.type = Type::kLaunchSeparator;
      return c;
    }
    c.type = Type::kLaunchManifest;
    ASSIGN_OR_RETURN(c.manifest_sha256, ParseDigestHex(*digest, "content.data.manifest_sha256"));
    return c;
  }
  if (type == "launch_observation") {
    c.type = Type::kLaunchObservation;
    std::optional<std::string> kind = df.String("kind", true);
    std::optional<std::string> id = df.String("launch_id", true);
    std::optional<std::string> nonce_hex = df.String("nonce", true);
    std::optional<std::string> peer = df.String("peer_exe_sha256", true);
    const JsonValue* observation = df.Object("observation", false);
    std::optional<std::string> not_observed = df.String("not_observed", false);
    RETURN_IF_ERROR(df.Finish());
    RETURN_IF_ERROR(CheckLaunchId(*id));
    c.launch_id = *id;
    if (*kind == "load") {
      c.observation_kind = ObservationKind::kLoad;
    } else if (*kind == "alive") {
      c.observation_kind = ObservationKind::kAlive;
    } else {
      return absl::InvalidArgumentError(
          absl::StrCat("content.data.kind \"", *kind, "\" is neither \"load\" nor \"alive\""));
    }
    if (!IsLowerHex(*nonce_hex) || nonce_hex->size() % 2 != 0) {
      return absl::InvalidArgumentError("content.data.nonce is not lowercase hex");
    }
    ASSIGN_OR_RETURN(c.nonce, HexDecode(*nonce_hex));
    c.peer_exe_sha256 = *peer;
    if (observation != nullptr) {
      ASSIGN_OR_RETURN(c.observation, KernelObservation::FromJson(*observation));
    }
    if (not_observed.has_value()) {
      if (not_observed->empty()) {
        return absl::InvalidArgumentError("content.data.not_observed must not be empty");
      }
      c.not_observed = *not_observed;
    }
    RETURN_IF_ERROR(CheckObservationFields(c));
    return c;
  }
  return absl::InvalidArgumentError(absl::StrCat("unknown content type \"", *type, "\""));
}

Json CelContent::ToJson() const {
  Json data;
  switch (type) {
    case Type::kEpoch:
      data = Json{{"reset_count", reset_count}, {"restart_count", restart_count}};
      break;
    case Type::kLaunchManifest:
      data = Json{{"launch_id", launch_id}, {"manifest_sha256", Hex(manifest_sha256)}};
      break;
    case Type::kLaunchSeparator:
      data = Json{{"launch_id", launch_id}};
      break;
    case Type::kLaunchObservation:
      data = Json{{"kind", std::string(ObservationKindName(observation_kind))},
                  {"launch_id", launch_id},
                  {"nonce", HexEncode(nonce)},
                  {"peer_exe_sha256", peer_exe_sha256}};
      if (observation.has_value()) {
        data["observation"] = observation->ToJson();
      } else {
        data["not_observed"] = not_observed;
      }
      break;
  }
  return Json{{"type", std::string(CelContentTypeName(type))}, {"data", std::move(data)}};
}

Sha256Digest CelContent::Digest() const {
  if (type == Type::kLaunchManifest) return manifest_sha256;
  // The canonical JSON of ToJson(), written directly: every verification
  // replays these records. Integers and a lowercase-hex launch_id need no
  // escaping; anything else takes the general path (event_log_test checks
  // the two agree).
  if (type == Type::kEpoch) {
    return Sha256(absl::StrCat(R"({"data":{"reset_count":)", reset_count, R"(,"restart_count":)",
                               restart_count, R"(},"type":"epoch"})"));
  }
  if (type == Type::kLaunchSeparator && CheckLaunchId(launch_id).ok()) {
    return Sha256(absl::StrCat(R"({"data":{"launch_id":")", launch_id,
                               R"("},"type":"launch_separator"})"));
  }
  // Our own values only (no floats, valid UTF-8): canonical JSON cannot fail.
  absl::StatusOr<std::string> canonical = CanonicalJson(ToJson());
  if (!canonical.ok()) abort();
  return Sha256(*canonical);
}

// ---------------------------------------------------------------------------
// CelRecord

CelRecord CelRecord::Make(uint64_t recnum, const Register& reg, CelContent content) {
  CelRecord r;
  r.recnum = recnum;
  r.reg = reg;
  r.digest = content.Digest();
  r.content = std::move(content);
  return r;
}

CelRecord CelRecord::Redacted() const {
  CelRecord r = *this;
  r.content.reset();
  return r;
}

Json CelRecord::ToJson() const {
  Json j{{"recnum", recnum},
         {"digests", Json::array({Json{{"hashAlg", kSha256}, {"digest", Hex(digest)}}})},
         {"content_type", kCelContentType}};
  j[reg.kind == Register::Kind::kPcr ? "pcr" : "nv_index"] = reg.index;
  if (content.has_value()) {
    j["content"] = content->ToJson();
  } else {
    j["redacted"] = true;
  }
  return j;
}

std::string CelRecord::ToLine() const {
  absl::StatusOr<std::string> s = CanonicalJson(ToJson());
  if (!s.ok()) abort();  // our own values only
  return *std::move(s);
}

absl::StatusOr<CelRecord> CelRecord::FromJson(const JsonValue& json, bool allow_redacted) {
  JsonValueFields f(json, "record");
  CelRecord r;
  std::optional<int64_t> recnum = f.Int("recnum", true, 0, std::numeric_limits<int64_t>::max());
  std::optional<int64_t> pcr = f.Int("pcr", false, 0, 23);
  std::optional<int64_t> nv = f.Int("nv_index", false, 0, std::numeric_limits<uint32_t>::max());
  const JsonValue* digests = f.Array("digests", true);
  std::optional<std::string> content_type = f.String("content_type", true);
  std::optional<bool> redacted = f.Bool("redacted", false);
  const JsonValue* content_json = f.Object("content", false);
  RETURN_IF_ERROR(f.Finish());

  r.recnum = static_cast<uint64_t>(*recnum);
  if (pcr.has_value() == nv.has_value()) {
    return absl::InvalidArgumentError(
        "record: exactly one of \"pcr\" and \"nv_index\" is required");
  }
  if (pcr.has_value()) {
    ASSIGN_OR_RETURN(r.reg, Register::Pcr(*pcr));
  } else {
    ASSIGN_OR_RETURN(r.reg, Register::NvIndex(static_cast<uint32_t>(*nv)));
  }
  if (digests->size() != 1) {
    return absl::InvalidArgumentError(
        "record: \"digests\" must hold exactly one digest, for the sha256 bank");
  }
  JsonValueFields df((*digests)[0], "record.digests[0]");
  std::optional<std::string> alg = df.String("hashAlg", true);
  std::optional<std::string> hex = df.String("digest", true);
  RETURN_IF_ERROR(df.Finish());
  if (*alg != kSha256) {
    return absl::InvalidArgumentError(
        absl::StrCat("record: digest for unsupported bank \"", *alg, "\" (only sha256)"));
  }
  ASSIGN_OR_RETURN(r.digest, ParseDigestHex(*hex, "record.digests[0].digest"));
  if (*content_type != kCelContentType) {
    return absl::InvalidArgumentError(
        absl::StrCat("record: unknown content_type \"", *content_type, "\""));
  }
  if (redacted.has_value()) {
    if (!*redacted) return absl::InvalidArgumentError("record: \"redacted\" is only ever true");
    if (!allow_redacted) return absl::InvalidArgumentError("record: redacted record in a full log");
    if (content_json != nullptr) {
      return absl::InvalidArgumentError("record: a redacted record has no content");
    }
    return r;
  }
  if (content_json == nullptr) {
    return absl::InvalidArgumentError("record: missing required key \"content\"");
  }
  ASSIGN_OR_RETURN(CelContent content, CelContent::FromJson(*content_json));
  const Sha256Digest expected = content.Digest();
  if (!DigestEqual(expected, r.digest)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "record: digest ", Short(r.digest), " does not match its ",
        CelContentTypeName(content.type), " content (which defines ", Short(expected), ")"));
  }
  r.content = std::move(content);
  return r;
}

// ---------------------------------------------------------------------------
// CelReplay

absl::Status CelReplay::Check(const CelRecord& record) const {
  auto fail = [&](auto&&... parts) {
    return absl::FailedPreconditionError(absl::StrCat("record ", record.recnum, ": ", parts...));
  };
  if (record.recnum != next_recnum_) {
    return absl::FailedPreconditionError(
        absl::StrCat("record has recnum ", record.recnum, " where ", next_recnum_, " comes next"));
  }
  if (!(record.reg == reg_)) {
    return fail("is for register ", record.reg.ToString(), " but this log measures ",
                reg_.ToString());
  }
  if (!record.content.has_value()) {
    if (!epoch_.has_value()) return fail("a redacted record cannot open the log");
    return absl::OkStatus();
  }
  const CelContent& c = *record.content;
  if (!DigestEqual(record.digest, c.Digest())) {
    return fail("digest does not match its ", CelContentTypeName(c.type), " content");
  }
  if (c.type == CelContent::Type::kEpoch) {
    if (epoch_.has_value() && epoch_->reset_count == c.reset_count &&
        epoch_->restart_count == c.restart_count) {
      return fail("duplicate epoch record for resetCount ", c.reset_count, " restartCount ",
                  c.restart_count, " (epoch began at record ", epoch_->first_recnum, ")");
    }
    return absl::OkStatus();
  }
  if (!epoch_.has_value()) {
    return fail("the log must begin with an epoch record, not ", CelContentTypeName(c.type));
  }
  auto it = launches_.find(c.launch_id);
  const bool alive = c.type == CelContent::Type::kLaunchObservation &&
                     c.observation_kind == CelContent::ObservationKind::kAlive;
  if (alive) {
    // A re-attestation: only of a closed launch of this epoch.
    if (it == launches_.end() || !it->second.separator_recnum.has_value()) {
      return fail("alive launch_observation for launch ", c.launch_id,
                  " before that launch's separator");
    }
    if (it->second.epoch_number + 1 != epochs_.size()) {
      return fail("alive launch_observation for launch ", c.launch_id,
                  " whose launch_manifest (record ", it->second.manifest_recnum,
                  ") is in an earlier epoch");
    }
    return absl::OkStatus();
  }
  if (it != launches_.end() && it->second.separator_recnum.has_value()) {
    return fail(CelContentTypeName(c.type), " for launch ", c.launch_id,
                " after that launch's separator (record ", *it->second.separator_recnum, ")");
  }
  if (c.type == CelContent::Type::kLaunchManifest) {
    if (it != launches_.end()) {
      return fail("duplicate launch_manifest for launch ", c.launch_id, " (first at record ",
                  it->second.manifest_recnum, ")");
    }
    return absl::OkStatus();
  }
  // kLaunchSeparator, or a load kLaunchObservation.
  const absl::string_view what = CelContentTypeName(c.type);
  if (it == launches_.end()) {
    return fail(what, " for launch ", c.launch_id, " without its launch_manifest");
  }
  if (it->second.epoch_number + 1 != epochs_.size()) {
    return fail(what, " for launch ", c.launch_id, " whose launch_manifest (record ",
                it->second.manifest_recnum, ") is in an earlier epoch");
  }
  if (c.type == CelContent::Type::kLaunchObservation) {
    if (it->second.observation_recnum.has_value()) {
      return fail("second load launch_observation for launch ", c.launch_id, " (first at record ",
                  *it->second.observation_recnum, ")");
    }
    return absl::OkStatus();
  }
  if (!it->second.observation_recnum.has_value()) {
    return fail("launch_separator for launch ", c.launch_id,
                " without its load launch_observation: the workload was never observed");
  }
  return absl::OkStatus();
}

absl::Status CelReplay::Apply(const CelRecord& record) {
  RETURN_IF_ERROR(Check(record));
  ++next_recnum_;
  if (record.content.has_value() && record.content->type == CelContent::Type::kEpoch) {
    epoch_ = Epoch{record.content->reset_count, record.content->restart_count, record.recnum};
    epochs_.push_back(*epoch_);
    value_ = kRegisterResetValue;
  } else if (record.content.has_value()) {
    const CelContent& c = *record.content;
    if (c.type == CelContent::Type::kLaunchManifest) {
      launches_.emplace(c.launch_id, Launch{.epoch_number = epochs_.size() - 1,
                                            .manifest_recnum = record.recnum});
    } else if (c.type == CelContent::Type::kLaunchSeparator) {
      launches_.find(c.launch_id)->second.separator_recnum = record.recnum;
    } else if (c.observation_kind == CelContent::ObservationKind::kLoad) {
      launches_.find(c.launch_id)->second.observation_recnum = record.recnum;
    }
  }
  value_before_last_ = value_;
  value_ = ExtendRegister(value_, record.digest);
  return absl::OkStatus();
}


}  // namespace fdattest
