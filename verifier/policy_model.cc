#include "verifier/policy_model.h"

#include <algorithm>
#include <cstring>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/file_io.h"
#include "common/sha256.h"
#include "common/storage.h"
#include "verifier/internal/policy_json.h"
#include "verifier/regions.h"
#include "verifier/rules.h"

namespace fdattest {
namespace {

using policy_internal::AccessFromName;
using policy_internal::CheckName;
using policy_internal::CheckToken;
using policy_internal::DigestSet;
using policy_internal::Invalid;
using policy_internal::IsPrintableText;
using policy_internal::PortSet;
using policy_internal::StringList;

// Bounds. Generous for real policies, small enough that a hostile policy
// cannot make evaluation expensive.
constexpr size_t kMaxDigests = 1024;
constexpr size_t kMaxShortList = 64;
constexpr size_t kMaxEgressRules = 64;
constexpr size_t kMaxDevices = 16;
constexpr size_t kMaxSecrets = 16;
constexpr size_t kMaxJwkBytes = 8 * 1024;
constexpr int64_t kMaxRetentionDays = 36500;

const std::set<std::string>& ManifestKinds() {
  static const std::set<std::string> s = {"file", "dir",    "char", "block",
                                          "fifo", "socket", "anon", "other"};
  return s;
}

// Policy-side region names: country codes, or the groups "EU" and "EEA"
// (expanded here, so rules compare country codes only).
absl::StatusOr<std::set<std::string>> RegionSet(const Json* array, const std::string& where) {
  ASSIGN_OR_RETURN(
      std::vector<std::string> list,
      StringList(array, where, kMaxShortList, /*allow_empty=*/false,
                 [](const std::string& s) -> std::string {
                   if (CountriesOfRegion(s).has_value()) return "";
                   return "must be an ISO 3166-1 alpha-2 code (\"DE\") or \"EU\"/\"EEA\"";
                 }));
  std::set<std::string> out;
  for (const std::string& r : list) {
    std::set<std::string> countries = *CountriesOfRegion(r);
    out.insert(countries.begin(), countries.end());
  }
  return out;
}

absl::StatusOr<RoleClass> RoleClassFromName(absl::string_view s) {
  if (s == "phi_input") return RoleClass::kPhiInput;
  if (s == "phi_output") return RoleClass::kPhiOutput;
  if (s == "audit") return RoleClass::kAudit;
  if (s == "control") return RoleClass::kControl;
  if (s == "secret") return RoleClass::kSecret;
  return absl::InvalidArgumentError("must be one of phi_input, phi_output, audit, control, secret");
}

absl::StatusOr<PeerRequirement> ParsePeer(const Json& json, const std::string& where) {
  JsonFields f(json, where);
  const Json* uids = f.Array("uids", false);
  const Json* exe = f.Array("exe_sha256", false);
  RETURN_IF_ERROR(f.Finish());
  PeerRequirement peer;
  if (uids != nullptr) {
    if (uids->size() > kMaxShortList) {
      return Invalid(where + ".uids", absl::StrCat("at most ", kMaxShortList, " entries"));
    }
    for (size_t i = 0; i < uids->size(); ++i) {
      const Json& u = (*uids)[i];
      if (!u.is_number_unsigned() || u.get<uint64_t>() > 0xfffffffeu) {
        return Invalid(absl::StrCat(where, ".uids[", i, "]"), "must be a uid 0..4294967294");
      }
      if (!peer.uids.insert(static_cast<uint32_t>(u.get<uint64_t>())).second) {
        return Invalid(absl::StrCat(where, ".uids[", i, "]"), "uid listed twice");
      }
    }
  }
  ASSIGN_OR_RETURN(peer.exe_sha256, DigestSet(exe, where + ".exe_sha256", kMaxDigests, true));
  if (peer.empty()) return Invalid(where, "names no peer: give \"uids\" and/or \"exe_sha256\"");
  return peer;
}

absl::StatusOr<StorageClass> StorageClassFromName(absl::string_view s) {
  if (s == "encrypted_at_rest") return StorageClass::kEncryptedAtRest;
  if (s == "not_persisted") return StorageClass::kNotPersisted;
  if (s == "durable") return StorageClass::kDurable;
  return absl::InvalidArgumentError("must be one of encrypted_at_rest, not_persisted, durable");
}

absl::StatusOr<std::set<uint32_t>> ModeSet(const Json* array, const std::string& where) {
  ASSIGN_OR_RETURN(std::vector<std::string> names,
                   StringList(array, where, 8, false, [](const std::string& s) -> std::string {
                     if (FscryptModeFromName(s).has_value()) return "";
                     return "must be an fscrypt mode: AES-256-XTS, AES-256-CTS, AES-128-CBC, "
                            "AES-128-CTS, SM4-XTS, SM4-CTS, Adiantum, AES-256-HCTR2";
                   }));
  std::set<uint32_t> out;
  for (const std::string& n : names) out.insert(*FscryptModeFromName(n));
  return out;
}

absl::StatusOr<EncryptionRequirement> ParseEncryption(const Json& json, const std::string& where) {
  JsonFields f(json, where);
  std::optional<int64_t> min_version = f.Int("min_version", false, 1, 2);
  const Json* contents = f.Array("contents_modes", false);
  const Json* filenames = f.Array("filenames_modes", false);
  RETURN_IF_ERROR(f.Finish());
  EncryptionRequirement e;
  e.min_version = static_cast<int>(min_version.value_or(1));
  ASSIGN_OR_RETURN(e.contents_modes, ModeSet(contents, where + ".contents_modes"));
  ASSIGN_OR_RETURN(e.filenames_modes, ModeSet(filenames, where + ".filenames_modes"));
  return e;
}

absl::StatusOr<std::pair<uint32_t, uint32_t>> ParseDevice(const std::string& s) {
  size_t colon = s.find(':');
  uint32_t major_num = 0, minor_num = 0;
  if (colon == std::string::npos || colon == 0 || colon + 1 == s.size() || s.size() > 21 ||
      !std::all_of(s.begin(), s.end(), [](char c) { return (c >= '0' && c <= '9') || c == ':'; }) ||
      !absl::SimpleAtoi(absl::string_view(s).substr(0, colon), &major_num) ||
      !absl::SimpleAtoi(absl::string_view(s).substr(colon + 1), &minor_num)) {
    return absl::InvalidArgumentError("must be \"MAJOR:MINOR\" in decimal (\"1:3\" is /dev/null)");
  }
  return std::make_pair(major_num, minor_num);
}

absl::StatusOr<RolePolicy> ParseRole(const Json& json, const std::string& where) {
  JsonFields f(json, where);
  std::optional<std::string> name = f.String("role", true);
  std::optional<std::string> role_class = f.String("class", true);
  const Json* kinds = f.Array("kinds", true);
  const Json* access = f.Array("access", true);
  std::optional<int64_t> min_count = f.Int("min", false, 0, kMaxDeclaredFds);
  std::optional<int64_t> max_count = f.Int("max", false, 0, kMaxDeclaredFds);
  const Json* content = f.Array("content_sha256", false);
  const Json* immutability = f.Array("immutability", false);
  const Json* peer = f.Object("peer", false);
  std::optional<bool> require_ktls = f.Bool("require_ktls", false);
  const Json* egress = f.Array("egress", false);
  const Json* regions = f.Array("regions", false);
  const Json* devices = f.Array("devices", false);
  const Json* storage = f.Array("storage", false);
  const Json* encryption = f.Object("encryption", false);
  RETURN_IF_ERROR(f.Finish());

  RolePolicy role;
  role.name = *name;
  if (std::string p = CheckName(role.name, 64); !p.empty()) return Invalid(where + ".role", p);
  auto cls = RoleClassFromName(*role_class);
  if (!cls.ok()) return Invalid(where + ".class", cls.status().message());
  role.role_class = *cls;

  ASSIGN_OR_RETURN(std::vector<std::string> kind_list,
                   StringList(kinds, where + ".kinds", ManifestKinds().size(), false,
                              [](const std::string& s) -> std::string {
                                if (ManifestKinds().contains(s)) return "";
                                return "must be one of file, dir, char, block, fifo, socket, "
                                       "anon, other";
                              }));
  role.kinds.insert(kind_list.begin(), kind_list.end());
  ASSIGN_OR_RETURN(
      std::vector<std::string> access_list,
      StringList(access, where + ".access", 4, false, [](const std::string& s) -> std::string {
        auto a = AccessFromName(s);
        return a.ok() ? "" : std::string(a.status().message());
      }));
  for (const std::string& a : access_list) role.access.insert(*AccessFromName(a));

  role.min_count = static_cast<int>(min_count.value_or(0));
  role.max_count = static_cast<int>(max_count.value_or(kMaxDeclaredFds));
  if (role.min_count > role.max_count) {
    return Invalid(where,
                   absl::StrCat("\"min\" ", role.min_count, " exceeds \"max\" ", role.max_count));
  }
  ASSIGN_OR_RETURN(role.content_sha256,
                   DigestSet(content, where + ".content_sha256", kMaxDigests, false));

  if (immutability != nullptr) {
    ASSIGN_OR_RETURN(
        std::vector<std::string> mechanisms,
        StringList(immutability, where + ".immutability", 3, false,
                   [](const std::string& s) -> std::string {
                     if (s == "read_only_mount" || s == "sealed" || s == "launch_digest") {
                       return "";
                     }
                     return "must be one of read_only_mount, sealed, launch_digest";
                   }));
    auto has = [&](absl::string_view m) {
      return std::find(mechanisms.begin(), mechanisms.end(), m) != mechanisms.end();
    };
    role.accept_read_only_mount = has("read_only_mount");
    role.accept_sealed = has("sealed");
    role.accept_launch_digest = has("launch_digest");
  }
  if (peer != nullptr) {
    ASSIGN_OR_RETURN(role.peer, ParsePeer(*peer, where + ".peer"));
  }
  role.require_ktls = require_ktls.value_or(false);
  if (egress != nullptr) {
    if (egress->size() > kMaxEgressRules) {
      return Invalid(where + ".egress", absl::StrCat("at most ", kMaxEgressRules, " entries"));
    }
    for (size_t i = 0; i < egress->size(); ++i) {
      const std::string rule_where = absl::StrCat(where, ".egress[", i, "]");
      JsonFields ef((*egress)[i], rule_where);
      std::optional<std::string> cidr = ef.String("cidr", true);
      const Json* ports = ef.Array("ports", true);
      RETURN_IF_ERROR(ef.Finish());
      EgressRule rule;
      auto prefix = IpPrefix::Parse(*cidr);
      if (!prefix.ok()) return Invalid(rule_where + ".cidr", prefix.status().message());
      rule.prefix = *prefix;
      ASSIGN_OR_RETURN(rule.ports, PortSet(ports, rule_where + ".ports"));
      role.egress.push_back(std::move(rule));
    }
  }
  if (regions != nullptr) {
    ASSIGN_OR_RETURN(role.regions, RegionSet(regions, where + ".regions"));
  }
  ASSIGN_OR_RETURN(std::vector<std::string> device_list,
                   StringList(devices, where + ".devices", kMaxDevices, false,
                              [](const std::string& s) -> std::string {
                                auto d = ParseDevice(s);
                                return d.ok() ? "" : std::string(d.status().message());
                              }));
  for (const std::string& d : device_list) role.devices.insert(*ParseDevice(d));
  if (storage != nullptr) {
    ASSIGN_OR_RETURN(std::vector<std::string> classes,
                     StringList(storage, where + ".storage", 3, false,
                                [](const std::string& s) -> std::string {
                                  auto c = StorageClassFromName(s);
                                  return c.ok() ? "" : std::string(c.status().message());
                                }));
    for (const std::string& c : classes) role.storage.insert(*StorageClassFromName(c));
  } else if (role.role_class == RoleClass::kPhiOutput) {
    role.storage = {StorageClass::kEncryptedAtRest, StorageClass::kNotPersisted};
  } else if (role.role_class == RoleClass::kAudit) {
    role.storage = {StorageClass::kDurable};
  }
  if (encryption != nullptr) {
    ASSIGN_OR_RETURN(role.encryption, ParseEncryption(*encryption, where + ".encryption"));
  }

  // Contradictions a policy author should hear about now, not as a rule
  // failure on every launch.
  if (role.role_class == RoleClass::kPhiInput &&
      (role.access.size() != 1 || !role.access.contains(Access::kRead))) {
    return Invalid(where + ".access", "a phi_input role allows only [\"r\"] (R2)");
  }
  if (role.role_class == RoleClass::kSecret &&
      (role.access.size() != 1 || !role.access.contains(Access::kRead))) {
    return Invalid(where + ".access", "a secret role allows only [\"r\"] (a sealed memfd)");
  }
  if (role.role_class == RoleClass::kSecret &&
      (role.kinds.size() != 1 || !role.kinds.contains("file"))) {
    return Invalid(where + ".kinds", "a secret role allows only [\"file\"] (a sealed memfd)");
  }
  if (storage != nullptr && role.role_class == RoleClass::kSecret) {
    return Invalid(where + ".storage", "a secret role is read-only memory: it has no stored output");
  }
  if (role.role_class == RoleClass::kAudit &&
      (role.access.contains(Access::kRead) || role.access.contains(Access::kReadWrite))) {
    return Invalid(where + ".access",
                   "an audit role allows only \"a\" (files) and \"w\" (sockets) (R6)");
  }
  if (!role.content_sha256.empty() && role.role_class != RoleClass::kPhiInput) {
    return Invalid(where + ".content_sha256", "applies only to a phi_input role (R1)");
  }
  if (immutability != nullptr && role.role_class != RoleClass::kPhiInput) {
    return Invalid(where + ".immutability", "applies only to a phi_input role (R2)");
  }
  // Storage settings that would make a report say something untrue.
  if (storage != nullptr && role.role_class == RoleClass::kPhiInput) {
    return Invalid(where + ".storage", "a phi_input role is read-only: it has no stored output");
  }
  if (role.role_class == RoleClass::kAudit && role.storage.contains(StorageClass::kNotPersisted)) {
    return Invalid(where + ".storage",
                   "an audit trail on tmpfs or ramfs is lost at unmount or reboot: an audit role "
                   "accepts only \"durable\" or \"encrypted_at_rest\" (R7)");
  }
  if (role.role_class == RoleClass::kPhiOutput && role.storage.contains(StorageClass::kDurable)) {
    return Invalid(where + ".storage",
                   "\"durable\" admits an unencrypted disk: a phi_output role accepts only "
                   "\"encrypted_at_rest\" and \"not_persisted\" (R3)");
  }
  if (encryption != nullptr && !role.storage.contains(StorageClass::kEncryptedAtRest)) {
    return Invalid(where + ".encryption", "applies only when \"storage\" lists encrypted_at_rest");
  }
  if (role.accept_launch_digest && role.content_sha256.empty()) {
    return Invalid(where + ".immutability",
                   "\"launch_digest\" needs a vetted \"content_sha256\" list");
  }
  return role;
}

absl::StatusOr<RegistryPolicy> ParseRegistryPolicy(const Json& json, const std::string& where) {
  JsonFields f(json, where);
  const Json* jwk = f.Object("signer_jwk", true);
  std::optional<std::string> issuer = f.String("issuer", false);
  const Json* regions = f.Array("allowed_regions", true);
  RETURN_IF_ERROR(f.Finish());
  RegistryPolicy r;
  // Only what makes it a public key is checked here; the pipeline imports it.
  {
    const std::string jwk_where = where + ".signer_jwk";
    if (jwk->size() > 16) return Invalid(jwk_where, "at most 16 members");
    auto kty = jwk->find("kty");
    if (kty == jwk->end() || !kty->is_string() || kty->get<std::string>().empty()) {
      return Invalid(jwk_where, "missing \"kty\"");
    }
    for (const char* secret : {"d", "p", "q", "dp", "dq", "qi", "k", "oth"}) {
      if (jwk->contains(secret)) {
        return Invalid(jwk_where, absl::StrCat("holds private key member \"", secret,
                                               "\": give the public key"));
      }
    }
    if (jwk->dump().size() > kMaxJwkBytes) {
      return Invalid(jwk_where, absl::StrCat("larger than ", kMaxJwkBytes, " bytes"));
    }
    r.signer_jwk = *jwk;
  }
  if (issuer.has_value()) {
    r.issuer = *issuer;
    if (std::string p = CheckName(r.issuer, 256); !p.empty()) return Invalid(where + ".issuer", p);
  }
  ASSIGN_OR_RETURN(r.allowed_regions, RegionSet(regions, where + ".allowed_regions"));
  return r;
}

}  // namespace

absl::string_view StorageClassName(StorageClass c) {
  switch (c) {
    case StorageClass::kEncryptedAtRest: return "encrypted_at_rest";
    case StorageClass::kNotPersisted: return "not_persisted";
    case StorageClass::kDurable: return "durable";
  }
  return "unknown";
}

std::set<StorageClass> AcceptedStorage(const RolePolicy* role) {
  if (role == nullptr) return {StorageClass::kEncryptedAtRest, StorageClass::kNotPersisted};
  return role->storage;
}

absl::string_view FreshnessName(Freshness f) {
  switch (f) {
    case Freshness::kEither: return "either";
    case Freshness::kLaunch: return "launch";
    case Freshness::kAlive: return "alive";
  }
  return "either";
}

const RolePolicy* Policy::FindRole(absl::string_view name) const {
  for (const RolePolicy& r : fd_roles) {
    if (r.name == name) return &r;
  }
  return nullptr;
}

bool Policy::NotEvaluableIsFatal(absl::string_view rule_id) const {
  auto it = not_evaluable_overrides.find(std::string(rule_id));
  NotEvaluablePolicy p = it == not_evaluable_overrides.end() ? not_evaluable : it->second;
  return p == NotEvaluablePolicy::kFail;
}

absl::StatusOr<Policy> Policy::Parse(absl::string_view text) {
  ASSIGN_OR_RETURN(Json doc, ParseJsonStrict(text, {.max_bytes = kMaxPolicyBytes, .max_depth = 8}));
  JsonFields f(doc, "policy");
  std::optional<int64_t> version = f.Int("version", true, kPolicyVersion, kPolicyVersion);
  std::optional<std::string> id = f.String("id", true);
  std::optional<std::string> description = f.String("description", false);
  const Json* workload = f.Object("workload", true);
  const Json* fd_roles = f.Array("fd_roles", true);
  std::optional<bool> closed_world = f.Bool("closed_world", false);
  std::optional<int64_t> max_fds = f.Int("max_fds", false, 1, kMaxDeclaredFds);
  const bool approved_fs = f.Has("approved_write_fs_types");
  const bool encrypted_fs = f.Has("encrypted_fs_types");
  const Json* registry = f.Object("registry", false);
  std::optional<int64_t> retention = f.Int("retention_days", false, 1, kMaxRetentionDays);
  std::optional<std::string> not_evaluable = f.String("not_evaluable", false);
  const Json* overrides = f.Object("not_evaluable_overrides", false);
  const Json* secrets = f.Array("secrets", false);
  std::optional<std::string> freshness = f.String("freshness", false);
  // Read before Finish(), so that a policy written for the removed keys hears
  // why rather than "unknown key".
  if (encrypted_fs) {
    return Invalid("policy.encrypted_fs_types",
                   "is not accepted: a filesystem's name is not proof of encryption (tmpfs and "
                   "ramfs are memory only, never encrypted); give fd_roles[].storage, judged from "
                   "the fscrypt policy and filesystem magic the launcher records");
  }
  if (approved_fs) {
    return Invalid("policy.approved_write_fs_types",
                   "is not accepted: where writable files may live is set per role "
                   "(fd_roles[].storage: encrypted_at_rest, not_persisted, durable)");
  }
  RETURN_IF_ERROR(f.Finish());

  Policy p;
  p.version = static_cast<int>(*version);
  p.id = *id;
  if (p.id.empty() || p.id.size() > 256 || !std::all_of(p.id.begin(), p.id.end(), [](char c) {
        return absl::ascii_isalnum(static_cast<unsigned char>(c)) ||
               std::strchr("._:/#-", c) != nullptr;
      })) {
    return Invalid("policy.id", "must be 1..256 characters of letters, digits and ._:/#-");
  }
  p.description = description.value_or("");
  if (p.description.size() > 4096 || !IsPrintableText(p.description)) {
    return Invalid("policy.description", "must be at most 4096 characters, no control characters");
  }

  {
    JsonFields w(*workload, "policy.workload");
    const Json* exe = w.Array("exe_sha256", true);
    const Json* filter = w.Array("filter_sha256", false);
    const Json* launcher = w.Array("launcher_sha256", false);
    const Json* profile = w.Array("profile_sha256", false);
    const Json* ak_names = w.Array("ak_names", false);
    RETURN_IF_ERROR(w.Finish());
    ASSIGN_OR_RETURN(p.exe_sha256,
                     DigestSet(exe, "policy.workload.exe_sha256", kMaxDigests, false));
    ASSIGN_OR_RETURN(p.filter_sha256,
                     DigestSet(filter, "policy.workload.filter_sha256", kMaxDigests, false));
    ASSIGN_OR_RETURN(p.launcher_sha256,
                     DigestSet(launcher, "policy.workload.launcher_sha256", kMaxDigests, false));
    ASSIGN_OR_RETURN(p.profile_sha256,
                     DigestSet(profile, "policy.workload.profile_sha256", kMaxDigests, false));
    // A TPM name: 2-byte hash algorithm then the digest (sha256: 34 bytes).
    ASSIGN_OR_RETURN(
        std::vector<std::string> names,
        StringList(ak_names, "policy.workload.ak_names", kMaxShortList, false,
                   [](const std::string& s) -> std::string {
                     if (s.size() >= 8 && s.size() <= 132 && s.size() % 2 == 0 && IsLowerHex(s)) {
                       return "";
                     }
                     return "must be a TPM name in lowercase hex (e.g. 000b + digest)";
                   }));
    p.ak_names.insert(names.begin(), names.end());
  }

  if (fd_roles->size() > kMaxDeclaredFds) {
    return Invalid("policy.fd_roles", absl::StrCat("at most ", kMaxDeclaredFds, " roles"));
  }
  for (size_t i = 0; i < fd_roles->size(); ++i) {
    const std::string where = absl::StrCat("policy.fd_roles[", i, "]");
    ASSIGN_OR_RETURN(RolePolicy role, ParseRole((*fd_roles)[i], where));
    if (p.FindRole(role.name) != nullptr) {
      return Invalid(where, absl::StrCat("role \"", role.name, "\" is defined twice"));
    }
    p.fd_roles.push_back(std::move(role));
  }
  p.closed_world = closed_world.value_or(true);
  p.max_fds = static_cast<int>(max_fds.value_or(kMaxDeclaredFds));
  int min_total = 0;
  for (const RolePolicy& r : p.fd_roles) min_total += r.min_count;
  if (min_total > p.max_fds) {
    return Invalid("policy.max_fds",
                   absl::StrCat(p.max_fds, " is below the roles' minimum total ", min_total));
  }

  if (registry != nullptr) {
    ASSIGN_OR_RETURN(p.registry, ParseRegistryPolicy(*registry, "policy.registry"));
  }
  for (size_t i = 0; i < p.fd_roles.size(); ++i) {
    const RolePolicy& r = p.fd_roles[i];
    if (r.regions.empty()) continue;
    const std::string where = absl::StrCat("policy.fd_roles[", i, "].regions");
    if (!p.registry.has_value()) {
      return Invalid(where, "needs \"registry\": regions come from a signed endpoint registry");
    }
    for (const std::string& region : r.regions) {
      if (!p.registry->allowed_regions.contains(region)) {
        return Invalid(where, absl::StrCat(region, " is not in policy.registry.allowed_regions"));
      }
    }
  }

  p.retention_days = retention;
  if (freshness.has_value()) {
    if (*freshness == "launch") {
      p.freshness = Freshness::kLaunch;
    } else if (*freshness == "alive") {
      p.freshness = Freshness::kAlive;
    } else if (*freshness != "either") {
      return Invalid("policy.freshness", "must be \"launch\", \"alive\" or \"either\"");
    }
  }

  auto parse_ne = [](const std::string& s,
                     const std::string& where) -> absl::StatusOr<NotEvaluablePolicy> {
    if (s == "warn") return NotEvaluablePolicy::kWarn;
    if (s == "fail") return NotEvaluablePolicy::kFail;
    return Invalid(where, "must be \"warn\" or \"fail\"");
  };
  if (not_evaluable.has_value()) {
    ASSIGN_OR_RETURN(p.not_evaluable, parse_ne(*not_evaluable, "policy.not_evaluable"));
  }
  if (overrides != nullptr) {
    for (auto it = overrides->begin(); it != overrides->end(); ++it) {
      const std::string where = absl::StrCat("policy.not_evaluable_overrides.", it.key());
      if (!IsRuleId(it.key())) {
        return Invalid("policy.not_evaluable_overrides",
                       absl::StrCat("unknown key \"", it.key(), "\" (rule ids are R0..R14)"));
      }
      if (!it->is_string()) return Invalid(where, "must be \"warn\" or \"fail\"");
      ASSIGN_OR_RETURN(p.not_evaluable_overrides[it.key()],
                       parse_ne(it->get<std::string>(), where));
    }
  }
  ASSIGN_OR_RETURN(p.secrets, StringList(secrets, "policy.secrets", kMaxSecrets, true,
                                         [](const std::string& s) { return CheckToken(s, 64); }));
  p.text_sha256 = HexEncode(Sha256(text));
  return p;
}

absl::StatusOr<Policy> Policy::Load(const std::string& path) {
  ASSIGN_OR_RETURN(std::string text, ReadFileLimited(path, kMaxPolicyBytes));
  return Parse(text);
}

}  // namespace fdattest
