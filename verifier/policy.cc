#include "verifier/policy.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <sys/sysmacros.h>

#include <algorithm>
#include <cstring>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/file_io.h"
#include "common/sha256.h"

namespace fdattest {
namespace {

// ---------------------------------------------------------------------------
// Bounds. Generous for real policies, small enough that a hostile policy or
// registry cannot make evaluation expensive.
constexpr size_t kMaxDigests = 1024;
constexpr size_t kMaxShortList = 64;
constexpr size_t kMaxEgressRules = 64;
constexpr size_t kMaxPorts = 32;
constexpr size_t kMaxDevices = 16;
constexpr size_t kMaxSecrets = 16;
constexpr size_t kMaxRegistryEndpoints = 4096;
constexpr size_t kMaxJwkBytes = 8 * 1024;
constexpr int64_t kMaxRetentionDays = 36500;

// EU member states (ISO 3166-1 alpha-2: Greece is GR, not the EU's "EL").
const std::set<std::string>& EuCountries() {
  static const std::set<std::string> s = {"AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI",
                                          "FR", "DE", "GR", "HU", "IE", "IT", "LV", "LT", "LU",
                                          "MT", "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE"};
  return s;
}

// Kernel interfaces reachable through a filesystem: a writable fd on one is a
// channel out of the declared data flow (R12).
const std::set<std::string>& KernelPseudoFs() {
  static const std::set<std::string> s = {"proc",       "sysfs",    "debugfs", "tracefs",
                                          "securityfs", "configfs", "bpf",     "cgroup",
                                          "cgroup2",    "efivarfs", "pstore"};
  return s;
}

const std::set<std::string>& ManifestKinds() {
  static const std::set<std::string> s = {"file", "dir",    "char", "block",
                                          "fifo", "socket", "anon", "other"};
  return s;
}

// The filter properties (common/bpf_properties.cc) each rule relies on.
const std::vector<std::string>& ClosedWorldProperties() {
  static const std::vector<std::string> v = {"foreign-arch-killed", "x32-killed",
                                             "default-refuses",     "no-deferred-actions",
                                             "never-allowed",       "process-confined"};
  return v;
}

bool IsSha256Hex(absl::string_view s) { return s.size() == 64 && IsLowerHex(s); }

bool IsPrintableText(absl::string_view s) {
  return std::none_of(s.begin(), s.end(),
                      [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; });
}

absl::Status Invalid(absl::string_view where, absl::string_view message) {
  return absl::InvalidArgumentError(absl::StrCat(where, ": ", message));
}

// ---------------------------------------------------------------------------
// Parsing helpers over JSON values already type-checked by JsonFields.

// A list of unique strings, each checked by `valid` (which returns what is
// wrong, or "" when fine).
template <typename Valid>
absl::StatusOr<std::vector<std::string>> StringList(const Json* array, const std::string& where,
                                                    size_t max_items, bool allow_empty,
                                                    Valid valid) {
  std::vector<std::string> out;
  if (array == nullptr) return out;
  if (array->size() > max_items) {
    return Invalid(where,
                   absl::StrCat("at most ", max_items, " entries (got ", array->size(), ")"));
  }
  if (array->empty() && !allow_empty) return Invalid(where, "must not be empty");
  std::set<std::string> seen;
  for (size_t i = 0; i < array->size(); ++i) {
    const Json& item = (*array)[i];
    const std::string item_where = absl::StrCat(where, "[", i, "]");
    if (!item.is_string()) return Invalid(item_where, "must be a string");
    std::string value = item.get<std::string>();
    std::string problem = valid(value);
    if (!problem.empty()) return Invalid(item_where, problem);
    if (!seen.insert(value).second) {
      return Invalid(item_where, absl::StrCat("\"", value, "\" is listed twice"));
    }
    out.push_back(std::move(value));
  }
  return out;
}

std::string CheckSha256(const std::string& s) {
  return IsSha256Hex(s) ? "" : "must be a sha256 digest: 64 lowercase hex characters";
}

absl::StatusOr<std::set<std::string>> DigestSet(const Json* array, const std::string& where,
                                                size_t max_items, bool allow_empty) {
  ASSIGN_OR_RETURN(std::vector<std::string> list,
                   StringList(array, where, max_items, allow_empty, CheckSha256));
  return std::set<std::string>(list.begin(), list.end());
}

std::string CheckName(const std::string& s, size_t max_len) {
  if (s.empty() || s.size() > max_len) return absl::StrCat("must be 1..", max_len, " characters");
  if (!IsPrintableText(s)) return "must not contain control characters";
  return "";
}

std::string CheckToken(const std::string& s, size_t max_len) {
  if (s.empty() || s.size() > max_len) return absl::StrCat("must be 1..", max_len, " characters");
  for (char c : s) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '_' && c != '-') {
      return "may contain only letters, digits, '.', '_' and '-'";
    }
  }
  return "";
}

// Every officially assigned ISO 3166-1 alpha-2 code (249, from Debian's
// iso-codes 4.15), sorted and concatenated: a region must name a country,
// not a typo or a reserved code such as "EU".
constexpr absl::string_view kIso3166Alpha2 =
    "ADAEAFAGAIALAMAOAQARASATAUAWAXAZBABBBDBEBFBGBHBIBJBLBMBNBOBQBRBSBTBVBWBYBZCACCCD"
    "CFCGCHCICKCLCMCNCOCRCUCVCWCXCYCZDEDJDKDMDODZECEEEGEHERESETFIFJFKFMFOFRGAGBGDGEGF"
    "GGGHGIGLGMGNGPGQGRGSGTGUGWGYHKHMHNHRHTHUIDIEILIMINIOIQIRISITJEJMJOJPKEKGKHKIKMKN"
    "KPKRKWKYKZLALBLCLILKLRLSLTLULVLYMAMCMDMEMFMGMHMKMLMMMNMOMPMQMRMSMTMUMVMWMXMYMZNA"
    "NCNENFNGNINLNONPNRNUNZOMPAPEPFPGPHPKPLPMPNPRPSPTPWPYQARERORSRURWSASBSCSDSESGSHSI"
    "SJSKSLSMSNSOSRSSSTSVSXSYSZTCTDTFTGTHTJTKTLTMTNTOTRTTTVTWTZUAUGUMUSUYUZVAVCVEVGVI"
    "VNVUWFWSYEYTZAZMZW";

bool IsCountryCode(absl::string_view s) {
  if (s.size() != 2) return false;
  size_t lo = 0, hi = kIso3166Alpha2.size() / 2;
  while (lo < hi) {
    const size_t mid = (lo + hi) / 2;
    const absl::string_view code = kIso3166Alpha2.substr(mid * 2, 2);
    if (code == s) return true;
    if (code < s) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  return false;
}

// Policy-side region names: country codes, or the groups "EU" and "EEA"
// (expanded here, so rules compare country codes only).
absl::StatusOr<std::set<std::string>> RegionSet(const Json* array, const std::string& where) {
  ASSIGN_OR_RETURN(
      std::vector<std::string> list,
      StringList(array, where, kMaxShortList, /*allow_empty=*/false,
                 [](const std::string& s) -> std::string {
                   if (s == "EU" || s == "EEA" || IsCountryCode(s)) return "";
                   return "must be an ISO 3166-1 alpha-2 code (\"DE\") or \"EU\"/\"EEA\"";
                 }));
  std::set<std::string> out;
  for (const std::string& r : list) {
    if (r == "EU" || r == "EEA") {
      out.insert(EuCountries().begin(), EuCountries().end());
      if (r == "EEA") out.insert({"IS", "LI", "NO"});
    } else {
      out.insert(r);
    }
  }
  return out;
}

absl::StatusOr<std::set<uint16_t>> PortSet(const Json* array, const std::string& where) {
  if (array->empty()) return Invalid(where, "must not be empty");
  if (array->size() > kMaxPorts)
    return Invalid(where, absl::StrCat("at most ", kMaxPorts, " ports"));
  std::set<uint16_t> out;
  for (size_t i = 0; i < array->size(); ++i) {
    const Json& p = (*array)[i];
    const std::string item_where = absl::StrCat(where, "[", i, "]");
    if (!p.is_number_unsigned() || p.get<uint64_t>() == 0 || p.get<uint64_t>() > 65535) {
      return Invalid(item_where, "must be a port number 1..65535");
    }
    if (!out.insert(static_cast<uint16_t>(p.get<uint64_t>())).second) {
      return Invalid(item_where, "port listed twice");
    }
  }
  return out;
}

// {"cidr": "...", "ports": [...]} (egress) and registry endpoints share this.
struct PrefixAndPorts {
  IpPrefix prefix;
  std::set<uint16_t> ports;
};

absl::StatusOr<Access> AccessFromName(absl::string_view s) {
  if (s == "r") return Access::kRead;
  if (s == "w") return Access::kWrite;
  if (s == "rw") return Access::kReadWrite;
  if (s == "a") return Access::kAppend;
  return absl::InvalidArgumentError("must be one of r, w, rw, a");
}

absl::StatusOr<RoleClass> RoleClassFromName(absl::string_view s) {
  if (s == "phi_input") return RoleClass::kPhiInput;
  if (s == "phi_output") return RoleClass::kPhiOutput;
  if (s == "audit") return RoleClass::kAudit;
  if (s == "control") return RoleClass::kControl;
  return absl::InvalidArgumentError("must be one of phi_input, phi_output, audit, control");
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

  // Contradictions a policy author should hear about now, not as a rule
  // failure on every launch.
  if (role.role_class == RoleClass::kPhiInput &&
      (role.access.size() != 1 || !role.access.contains(Access::kRead))) {
    return Invalid(where + ".access", "a phi_input role allows only [\"r\"] (R2)");
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

// ---------------------------------------------------------------------------
// Rule catalogue (reference/formats.md §3.4), clauses as cited there.

struct RuleSpec {
  const char* id;
  const char* title;
  const char* hipaa;
  const char* gdpr;
};

constexpr RuleSpec kRules[] = {
    {"R0", "closed world", "45 CFR 164.312(a)(1)", "Art. 25(1); Art. 32(1)(b)"},
    {"R1", "PHI input from vetted source", "45 CFR 164.312(c)(1), (c)(2), (d)",
     "Art. 5(1)(d), (f)"},
    {"R2", "read-only input", "45 CFR 164.312(c)(1)", "Art. 5(1)(f)"},
    {"R3", "output only encrypted", "45 CFR 164.312(e)(1), (e)(2)(ii), (a)(2)(iv)",
     "Art. 32(1)(a)"},
    {"R4", "egress allow-list", "45 CFR 164.312(e)(1)", "Art. 5(1)(b); Art. 32"},
    {"R5", "transfer region", "", "Art. 44–46; Art. 49; Art. 30(1)(e)"},
    {"R6", "append-only audit fd", "45 CFR 164.312(b), (c)(1)", "Art. 5(2); Art. 30"},
    {"R7", "no PHI at rest outside approved stores", "45 CFR 164.312(a)(2)(iv)",
     "Art. 5(1)(e); Art. 32(1)(a)"},
    {"R8", "minimisation", "45 CFR 164.502(b)", "Art. 5(1)(b), (c); Art. 25(2)"},
    {"R9", "peer authentication", "45 CFR 164.312(d)", "Art. 32(1)(b)"},
    {"R10", "workload identity", "45 CFR 164.312(a)(2)(i)", "Art. 5(2)"},
    {"R11", "freshness and continuity", "45 CFR 164.312(c)(1)", "Art. 32(1)(d)"},
    {"R12", "no leak channels", "45 CFR 164.312(a)(1)", "Art. 32(1)(b)"},
    {"R13", "executable and configuration integrity", "45 CFR 164.312(c)(1)", "Art. 25(1)"},
    {"R14", "retention and no personal data in the log", "45 CFR 164.316(b)(2)(i)",
     "Art. 5(1)(e); Art. 17; EDPB 02/2025"},
};
constexpr size_t kRuleCount = sizeof(kRules) / sizeof(kRules[0]);

bool IsRuleId(absl::string_view id) {
  for (const RuleSpec& r : kRules) {
    if (id == r.id) return true;
  }
  return false;
}

}  // namespace

// ---------------------------------------------------------------------------
// Addresses.

namespace {
constexpr uint8_t kV4Mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
}  // namespace

std::optional<IpEndpoint> IpEndpoint::Parse(absl::string_view text) {
  IpEndpoint e;
  absl::string_view host, port;
  if (!text.empty() && text.front() == '[') {
    size_t close = text.find("]:");
    if (close == absl::string_view::npos) return std::nullopt;
    host = text.substr(1, close - 1);
    port = text.substr(close + 2);
    e.v6 = true;
  } else {
    size_t colon = text.rfind(':');
    if (colon == absl::string_view::npos) return std::nullopt;
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
  }
  uint32_t port_num = 0;
  if (port.empty() || port.size() > 5 ||
      !std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; }) ||
      !absl::SimpleAtoi(port, &port_num) || port_num > 65535 || host.size() > 45) {
    return std::nullopt;
  }
  e.port = static_cast<uint16_t>(port_num);
  const std::string host_str(host);
  if (e.v6) {
    if (inet_pton(AF_INET6, host_str.c_str(), e.addr.data()) != 1) return std::nullopt;
    if (std::equal(std::begin(kV4Mapped), std::end(kV4Mapped), e.addr.begin())) {
      std::array<uint8_t, 16> v4{};
      std::copy(e.addr.begin() + 12, e.addr.end(), v4.begin());
      e.addr = v4;
      e.v6 = false;
    }
  } else if (inet_pton(AF_INET, host_str.c_str(), e.addr.data()) != 1) {
    return std::nullopt;
  }
  return e;
}

absl::StatusOr<IpPrefix> IpPrefix::Parse(absl::string_view text) {
  IpPrefix p;
  p.text = std::string(text);
  size_t slash = text.find('/');
  if (slash == absl::string_view::npos || text.size() > 64) {
    return absl::InvalidArgumentError(
        absl::StrCat("\"", p.text, "\" is not a CIDR prefix (\"10.1.0.0/16\", \"2001:db8::/32\")"));
  }
  const std::string host(text.substr(0, slash));
  absl::string_view len = text.substr(slash + 1);
  p.v6 = host.find(':') != std::string::npos;
  const int max_len = p.v6 ? 128 : 32;
  if (inet_pton(p.v6 ? AF_INET6 : AF_INET, host.c_str(), p.addr.data()) != 1 || len.empty() ||
      len.size() > 3 ||
      !std::all_of(len.begin(), len.end(), [](char c) { return c >= '0' && c <= '9'; }) ||
      !absl::SimpleAtoi(len, &p.length) || p.length > max_len) {
    return absl::InvalidArgumentError(absl::StrCat("\"", p.text, "\" is not a valid CIDR prefix"));
  }
  for (int bit = p.length; bit < max_len; ++bit) {
    if (p.addr[bit / 8] & (0x80 >> (bit % 8))) {
      return absl::InvalidArgumentError(
          absl::StrCat("\"", p.text, "\" has host bits set beyond /", p.length));
    }
  }
  // Peers in ::ffff:0:0/96 are compared as IPv4 (IpEndpoint::Parse), so a
  // prefix inside it is too; a shorter one stays IPv6 and covers no peer there.
  if (p.v6 && p.length >= 96 &&
      std::equal(std::begin(kV4Mapped), std::end(kV4Mapped), p.addr.begin())) {
    std::array<uint8_t, 16> v4{};
    std::copy(p.addr.begin() + 12, p.addr.end(), v4.begin());
    p.addr = v4;
    p.length -= 96;
    p.v6 = false;
  }
  return p;
}

bool IpPrefix::Contains(const IpEndpoint& e) const {
  if (e.v6 != v6) return false;
  for (int bit = 0; bit < length; ++bit) {
    const uint8_t mask = 0x80 >> (bit % 8);
    if ((addr[bit / 8] & mask) != (e.addr[bit / 8] & mask)) return false;
  }
  return true;
}

absl::string_view RoleClassName(RoleClass c) {
  switch (c) {
    case RoleClass::kPhiInput:
      return "phi_input";
    case RoleClass::kPhiOutput:
      return "phi_output";
    case RoleClass::kAudit:
      return "audit";
    case RoleClass::kControl:
      return "control";
  }
  return "?";
}

absl::string_view RuleOutcomeName(RuleOutcome outcome) {
  switch (outcome) {
    case RuleOutcome::kPass:
      return "pass";
    case RuleOutcome::kFail:
      return "fail";
    case RuleOutcome::kNotEvaluable:
      return "not_evaluable";
  }
  return "?";
}

// ---------------------------------------------------------------------------
// Policy.

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
  const Json* approved_fs = f.Array("approved_write_fs_types", false);
  const Json* encrypted_fs = f.Array("encrypted_fs_types", false);
  const Json* registry = f.Object("registry", false);
  std::optional<int64_t> retention = f.Int("retention_days", false, 1, kMaxRetentionDays);
  std::optional<std::string> not_evaluable = f.String("not_evaluable", false);
  const Json* overrides = f.Object("not_evaluable_overrides", false);
  const Json* secrets = f.Array("secrets", false);
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

  auto fs_token = [](const std::string& s) { return CheckToken(s, 64); };
  ASSIGN_OR_RETURN(
      std::vector<std::string> approved,
      StringList(approved_fs, "policy.approved_write_fs_types", kMaxShortList, true, fs_token));
  p.approved_write_fs_types.insert(approved.begin(), approved.end());
  ASSIGN_OR_RETURN(
      std::vector<std::string> encrypted,
      StringList(encrypted_fs, "policy.encrypted_fs_types", kMaxShortList, true, fs_token));
  for (size_t i = 0; i < encrypted.size(); ++i) {
    if (!p.approved_write_fs_types.contains(encrypted[i])) {
      return Invalid(absl::StrCat("policy.encrypted_fs_types[", i, "]"),
                     absl::StrCat("\"", encrypted[i],
                                  "\" is not in approved_write_fs_types (an encrypted store is "
                                  "still a store: list it there too)"));
    }
    p.encrypted_fs_types.insert(encrypted[i]);
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

// ---------------------------------------------------------------------------
// Endpoint registry.

std::vector<const RegistryEndpoint*> EndpointRegistry::Lookup(const IpEndpoint& peer) const {
  std::vector<const RegistryEndpoint*> out;
  for (const RegistryEndpoint& e : endpoints) {
    if (e.prefix.Contains(peer) && e.ports.contains(peer.port)) out.push_back(&e);
  }
  return out;
}

absl::StatusOr<EndpointRegistry> EndpointRegistry::Parse(absl::string_view payload) {
  ASSIGN_OR_RETURN(Json doc,
                   ParseJsonStrict(payload, {.max_bytes = kMaxRegistryBytes, .max_depth = 6}));
  JsonFields f(doc, "registry");
  std::optional<int64_t> version = f.Int("version", true, 1, 1);
  std::optional<std::string> issuer = f.String("issuer", true);
  const Json* endpoints = f.Array("endpoints", true);
  RETURN_IF_ERROR(f.Finish());
  EndpointRegistry r;
  r.version = static_cast<int>(*version);
  r.issuer = *issuer;
  if (std::string p = CheckName(r.issuer, 256); !p.empty()) return Invalid("registry.issuer", p);
  if (endpoints->size() > kMaxRegistryEndpoints) {
    return Invalid("registry.endpoints",
                   absl::StrCat("at most ", kMaxRegistryEndpoints, " entries"));
  }
  for (size_t i = 0; i < endpoints->size(); ++i) {
    const std::string where = absl::StrCat("registry.endpoints[", i, "]");
    JsonFields ef((*endpoints)[i], where);
    std::optional<std::string> cidr = ef.String("cidr", true);
    const Json* ports = ef.Array("ports", true);
    std::optional<std::string> region = ef.String("region", true);
    std::optional<std::string> name = ef.String("name", false);
    RETURN_IF_ERROR(ef.Finish());
    RegistryEndpoint e;
    auto prefix = IpPrefix::Parse(*cidr);
    if (!prefix.ok()) return Invalid(where + ".cidr", prefix.status().message());
    e.prefix = *prefix;
    ASSIGN_OR_RETURN(e.ports, PortSet(ports, where + ".ports"));
    if (!IsCountryCode(*region)) {
      return Invalid(where + ".region",
                     "must be an ISO 3166-1 alpha-2 country code (\"DE\"); groups such as "
                     "\"EU\" belong in the policy");
    }
    e.region = *region;
    e.name = name.value_or("");
    if (name.has_value()) {
      if (std::string p = CheckName(e.name, 128); !p.empty()) return Invalid(where + ".name", p);
    }
    r.endpoints.push_back(std::move(e));
  }
  return r;
}

// ---------------------------------------------------------------------------
// Rule evaluation.

namespace {

// What one rule found: any failure fails it; otherwise anything that could
// not be checked makes it not evaluable; it passes only when everything in
// scope was checked.
class Findings {
 public:
  void Fail(std::string s) { fails_.push_back(std::move(s)); }
  void Unknown(std::string s) { unknowns_.push_back(std::move(s)); }
  void Ok(std::string s) { oks_.push_back(std::move(s)); }

  RuleOutcome outcome() const {
    if (!fails_.empty()) return RuleOutcome::kFail;
    if (!unknowns_.empty()) return RuleOutcome::kNotEvaluable;
    return RuleOutcome::kPass;
  }

  // One line: the failures (or unknowns, or the checked items), capped.
  std::string Reason(absl::string_view nothing_in_scope) const {
    const std::vector<std::string>& items = !fails_.empty()      ? fails_
                                            : !unknowns_.empty() ? unknowns_
                                                                 : oks_;
    if (items.empty()) return std::string(nothing_in_scope);
    constexpr size_t kShown = 4;
    std::vector<std::string> shown(items.begin(), items.begin() + std::min(items.size(), kShown));
    std::string out = absl::StrJoin(shown, "; ");
    if (items.size() > kShown) absl::StrAppend(&out, "; and ", items.size() - kShown, " more");
    return out;
  }

 private:
  std::vector<std::string> fails_, unknowns_, oks_;
};

std::string Short(absl::string_view digest) {
  return digest.size() > 16 ? absl::StrCat(digest.substr(0, 16), "…") : std::string(digest);
}

std::string FdLabel(const FdFingerprint& fp) {
  return fp.role.empty() ? absl::StrCat("fd ", fp.fd)
                         : absl::StrCat("fd ", fp.fd, " (", fp.role, ")");
}

std::string JoinSet(const std::set<std::string>& s) {
  return s.empty() ? std::string("none") : absl::StrJoin(s, ", ");
}

std::optional<Access> FdAccess(const FdFingerprint& fp) {
  auto a = AccessFromName(fp.access);
  if (!a.ok()) return std::nullopt;
  return *a;
}

const PropertyResult* FindProperty(const PolicyFacts& facts, absl::string_view id) {
  if (facts.filter_properties == nullptr) return nullptr;
  for (const PropertyResult& p : *facts.filter_properties) {
    if (p.id == id) return &p;
  }
  return nullptr;
}

// Records a failure unless the filter is proven and `id` holds.
void RequireProperty(const PolicyFacts& facts, absl::string_view id, absl::string_view why,
                     Findings& f) {
  if (!facts.filter_proven) {
    f.Fail(absl::StrCat("filter not proven (",
                        facts.filter_error.empty() ? "no reason given" : facts.filter_error,
                        "): ", why, " not established"));
    return;
  }
  const PropertyResult* p = FindProperty(facts, id);
  if (p == nullptr) {
    f.Fail(absl::StrCat("filter property ", id, " is not among the proven properties: ", why,
                        " not established"));
  } else if (!p->holds) {
    f.Fail(absl::StrCat("filter property ", id, " refuted",
                        p->detail.empty() ? "" : absl::StrCat(" (", p->detail, ")"), ": ", why,
                        " not established"));
  }
}

// Whether the workload can write through `fp`: by its declared access when
// the filter is proven (the write family is confined to writable declared
// fds), otherwise by what the kernel would allow.
bool WorkloadCanWrite(const FdFingerprint& fp, const PolicyFacts& facts) {
  std::optional<Access> a = FdAccess(fp);
  if (a.has_value() && Writable(*a)) return true;
  if (facts.filter_proven && a.has_value()) return false;
  return fp.open_mode == "w" || fp.open_mode == "rw";
}

bool IsInet(const FdFingerprint& fp) {
  return fp.kind == "socket" && fp.socket.has_value() &&
         (fp.socket->family == "inet" || fp.socket->family == "inet6");
}

bool IsUnix(const FdFingerprint& fp) {
  return fp.kind == "socket" && fp.socket.has_value() && fp.socket->family == "unix";
}

bool IsDevNull(const FdFingerprint& fp) {
  return fp.kind == "char" && major(fp.stat.rdev) == 1 && minor(fp.stat.rdev) == 3;
}

// The role class a manifest fd is judged as; fds whose role the policy does
// not define are treated as possible PHI outputs (the conservative reading).
RoleClass ClassOf(const Policy& policy, const FdFingerprint& fp) {
  const RolePolicy* r = policy.FindRole(fp.role);
  return r == nullptr ? RoleClass::kPhiOutput : r->role_class;
}

// The unix peer satisfies `req` (SO_PEERCRED uid and peer executable digest).
// Returns "" when it does, else what is wrong.
std::string CheckUnixPeer(const FdFingerprint& fp, const PeerRequirement& req,
                          absl::string_view role_name) {
  if (req.empty()) {
    return absl::StrCat(FdLabel(fp), ": role ", role_name,
                        " names no acceptable peer (peer.uids / peer.exe_sha256)");
  }
  if (!fp.socket->peer_cred.has_value()) {
    return absl::StrCat(FdLabel(fp), ": no SO_PEERCRED recorded for the unix peer");
  }
  const PeerCred& pc = *fp.socket->peer_cred;
  if (!req.uids.empty() && !req.uids.contains(pc.uid)) {
    return absl::StrCat(FdLabel(fp), ": peer uid ", pc.uid, " is not in peer.uids");
  }
  if (!req.exe_sha256.empty()) {
    if (!pc.exe_sha256.has_value()) {
      return absl::StrCat(FdLabel(fp), ": peer pid ", pc.pid,
                          " executable digest was not readable at launch");
    }
    if (!req.exe_sha256.contains(*pc.exe_sha256)) {
      return absl::StrCat(FdLabel(fp), ": peer executable sha256 ", *pc.exe_sha256,
                          " is not in peer.exe_sha256");
    }
  }
  return "";
}

std::string PeerSummary(const FdFingerprint& fp) {
  const PeerCred& pc = *fp.socket->peer_cred;
  return absl::StrCat(FdLabel(fp), ": unix peer uid ", pc.uid,
                      pc.exe_sha256 ? absl::StrCat(", exe ", Short(*pc.exe_sha256)) : "");
}

using RuleFn = Findings (*)(const Policy&, const PolicyFacts&, std::string&);

// R0: the filter keeps the fd set closed (no creation, replacement, passing
// or foreign ABI), proven from its bytes; no_new_privs.
Findings RuleClosedWorld(const Policy&, const PolicyFacts& facts, std::string& pass) {
  Findings f;
  if (!facts.filter_proven) {
    f.Fail(absl::StrCat("filter not proven: ",
                        facts.filter_error.empty() ? "no reason given" : facts.filter_error));
  } else {
    for (const std::string& id : ClosedWorldProperties()) {
      RequireProperty(facts, id, "closed world", f);
    }
    // filter_proven claims every property holds: a refuted one among the
    // rest means the facts contradict themselves.
    const std::vector<std::string>& named = ClosedWorldProperties();
    const std::vector<PropertyResult> none;
    for (const PropertyResult& p : facts.filter_properties ? *facts.filter_properties : none) {
      if (!p.holds && std::find(named.begin(), named.end(), p.id) == named.end()) {
        f.Fail(absl::StrCat("filter property ", p.id, " refuted: ", p.detail));
      }
    }
  }
  if (facts.manifest != nullptr && !facts.manifest->no_new_privs) {
    f.Fail("manifest.no_new_privs is false");
  }
  if (facts.manifest != nullptr && !facts.manifest->no_capabilities) {
    f.Fail("manifest.no_capabilities is absent or false: the workload may hold capabilities");
  }
  if (facts.manifest == nullptr) {
    f.Unknown("no verified manifest: no_new_privs and no_capabilities not established");
  }
  pass =
      "filter proven: no fd creation, replacement or passing (sendmsg/recvmsg refused, so no "
      "SCM_RIGHTS), no ptrace, foreign ABIs killed, default refuses; no_new_privs set, no "
      "capabilities";
  return f;
}

// R1: every phi_input fd comes from a vetted source.
Findings RuleVettedInput(const Policy& policy, const PolicyFacts& facts, std::string& pass) {
  Findings f;
  pass = "no fd has a phi_input role";
  for (const FdFingerprint& fp : facts.manifest->fds) {
    const RolePolicy* role = policy.FindRole(fp.role);
    if (role == nullptr || role->role_class != RoleClass::kPhiInput) continue;
    const std::string label = FdLabel(fp);
    if (fp.kind == "file") {
      if (!fp.content_sha256.has_value()) {
        f.Fail(absl::StrCat(label,
                            ": no content_sha256 recorded (the profile must set \"hash\": true)"));
      } else if (role->content_sha256.empty()) {
        f.Fail(absl::StrCat(label, ": role ", role->name, " lists no vetted content_sha256"));
      } else if (!role->content_sha256.contains(*fp.content_sha256)) {
        f.Fail(absl::StrCat(label, ": content_sha256 ", *fp.content_sha256,
                            " is not in the vetted list"));
      } else {
        f.Ok(absl::StrCat(label, ": content_sha256 ", Short(*fp.content_sha256), " vetted"));
      }
    } else if (IsUnix(fp)) {
      std::string problem = CheckUnixPeer(fp, role->peer, role->name);
      if (!problem.empty()) {
        f.Fail(std::move(problem));
      } else if (role->peer.exe_sha256.empty()) {
        f.Fail(absl::StrCat(label, ": a uid alone does not attest the source; role ", role->name,
                            " needs peer.exe_sha256"));
      } else {
        f.Ok(absl::StrCat(PeerSummary(fp), " attested"));
      }
    } else if (IsInet(fp)) {
      std::optional<IpEndpoint> peer = IpEndpoint::Parse(fp.socket->peer_address);
      bool listed = false;
      for (const EgressRule& r : role->egress) {
        if (peer && r.prefix.Contains(*peer) && r.ports.contains(peer->port)) listed = true;
      }
      if (!listed) {
        f.Fail(absl::StrCat(label, ": peer ", fp.socket->peer_address,
                            " is not a vetted endpoint of role ", role->name, " (egress)"));
      } else {
        f.Unknown(absl::StrCat(label, ": peer ", fp.socket->peer_address,
                               " is listed, but an inet peer's identity is not fingerprinted "
                               "(an IP address is weak identity)"));
      }
    } else {
      f.Fail(absl::StrCat(label, ": a ", fp.kind,
                          " is not a vettable source (file with digest or attested unix peer)"));
    }
  }
  return f;
}

// R2: phi_input fds cannot be written by the workload, and files cannot be
// changed by anyone else (by the mechanisms the role accepts).
Findings RuleReadOnlyInput(const Policy& policy, const PolicyFacts& facts, std::string& pass) {
  Findings f;
  pass = "no fd has a phi_input role";
  for (const FdFingerprint& fp : facts.manifest->fds) {
    const RolePolicy* role = policy.FindRole(fp.role);
    if (role == nullptr || role->role_class != RoleClass::kPhiInput) continue;
    const std::string label = FdLabel(fp);
    if (fp.access != "r") {
      f.Fail(absl::StrCat(label, ": declared access \"", fp.access, "\", not \"r\""));
      continue;
    }
    if (fp.kind == "socket") {
      // A socket is opened read-write; the proven filter is what confines it
      // to the read family.
      Findings g;
      RequireProperty(facts, "write-family-fds", absl::StrCat(label, " read-only use"), g);
      RequireProperty(facts, "zero-copy-fds", absl::StrCat(label, " read-only use"), g);
      if (g.outcome() == RuleOutcome::kFail) {
        f.Fail(g.Reason(""));
      } else {
        f.Ok(absl::StrCat(label, ": read-only by the proven filter"));
      }
      continue;
    }
    if (fp.open_mode != "r" || fp.append) {
      f.Fail(absl::StrCat(label, ": open_mode \"", fp.open_mode, "\"",
                          fp.append ? " with O_APPEND" : "", ", not read-only"));
      continue;
    }
    if (fp.kind != "file") {
      f.Ok(absl::StrCat(label, ": ", fp.kind, " opened read-only"));
      continue;
    }
    constexpr uint32_t kImmutableSeals = F_SEAL_WRITE | F_SEAL_GROW | F_SEAL_SHRINK;
    std::vector<std::string> by;
    if (role->accept_read_only_mount && fp.mount && fp.mount->read_only) {
      by.push_back(absl::StrCat("read-only ", fp.mount->fs_type, " mount"));
    }
    if (role->accept_sealed && fp.memfd_seals &&
        (*fp.memfd_seals & kImmutableSeals) == kImmutableSeals) {
      by.push_back("sealed memfd");
    }
    if (role->accept_launch_digest && fp.content_sha256 &&
        role->content_sha256.contains(*fp.content_sha256)) {
      by.push_back("vetted content digest at launch");
    }
    if (by.empty()) {
      std::vector<std::string> accepted;
      if (role->accept_read_only_mount) accepted.push_back("read_only_mount");
      if (role->accept_sealed) accepted.push_back("sealed");
      if (role->accept_launch_digest) accepted.push_back("launch_digest");
      f.Fail(absl::StrCat(
          label, ": opened read-only, but ",
          fp.mount ? absl::StrCat("mount ", fp.mount->fs_type,
                                  fp.mount->read_only ? " is read-only" : " is read-write")
                   : std::string("no mount recorded"),
          fp.memfd_seals ? absl::StrCat(", seals 0x", absl::Hex(*fp.memfd_seals))
                         : std::string(", not sealed"),
          " (immutability accepted: ",
          accepted.empty() ? std::string("none") : absl::StrJoin(accepted, ", "), ")"));
    } else {
      f.Ok(absl::StrCat(label, ": read-only, immutable by ", absl::StrJoin(by, " and ")));
    }
  }
  return f;
}

// R3: what may carry protected data out is encrypted (kTLS, an attested
// local proxy, or an encrypted store).
Findings RuleEncryptedOutput(const Policy& policy, const PolicyFacts& facts, std::string& pass) {
  Findings f;
  pass = "no writable phi_output fd and no writable network socket";
  for (const FdFingerprint& fp : facts.manifest->fds) {
    const RolePolicy* role = policy.FindRole(fp.role);
    const std::string label = FdLabel(fp);
    if (role != nullptr && role->require_ktls && IsInet(fp) &&
        fp.socket->tcp_ulp.value_or("") != "tls") {
      f.Fail(absl::StrCat(
          label, ": role ", role->name, " requires kTLS; tcp_ulp is ",
          fp.socket->tcp_ulp ? absl::StrCat("\"", *fp.socket->tcp_ulp, "\"") : "absent"));
      continue;
    }
    const bool in_scope =
        WorkloadCanWrite(fp, facts) && (ClassOf(policy, fp) == RoleClass::kPhiOutput || IsInet(fp));
    if (!in_scope) continue;
    if (IsInet(fp)) {
      if (fp.socket->tcp_ulp.value_or("") == "tls") {
        f.Ok(absl::StrCat(label, ": kernel TLS (version/cipher not fingerprinted)"));
      } else {
        f.Fail(absl::StrCat(label, ": writable ", fp.socket->family, " socket to ",
                            fp.socket->peer_address,
                            " without kernel TLS (user-space TLS cannot be proven)"));
      }
    } else if (IsUnix(fp)) {
      if (role == nullptr) {
        f.Fail(absl::StrCat(label, ": unix socket with a role the policy does not define"));
        continue;
      }
      std::string problem = CheckUnixPeer(fp, role->peer, role->name);
      if (problem.empty() && role->peer.exe_sha256.empty()) {
        problem = absl::StrCat(label, ": role ", role->name,
                               " needs peer.exe_sha256 to attest the encrypting proxy");
      }
      if (!problem.empty()) {
        f.Fail(std::move(problem));
      } else {
        f.Ok(absl::StrCat(PeerSummary(fp), ": attested local proxy"));
      }
    } else if (fp.kind == "file") {
      if (fp.mount && policy.encrypted_fs_types.contains(fp.mount->fs_type)) {
        f.Ok(absl::StrCat(label, ": file on encrypted store ", fp.mount->fs_type));
      } else {
        f.Fail(absl::StrCat(label, ": writable file on ",
                            fp.mount ? fp.mount->fs_type : std::string("an unrecorded mount"),
                            ", not an encrypted store (encrypted_fs_types: ",
                            JoinSet(policy.encrypted_fs_types), ")"));
      }
    } else if (IsDevNull(fp)) {
      f.Ok(absl::StrCat(label, ": /dev/null"));
    } else {
      f.Fail(absl::StrCat(label, ": writable ", fp.kind, " is not an encrypted channel"));
    }
  }
  return f;
}

// R4: network sockets only to allow-listed endpoints; no listening, raw,
// packet or netlink sockets.
Findings RuleEgress(const Policy& policy, const PolicyFacts& facts, std::string& pass) {
  Findings f;
  pass = "no network socket";
  bool any_socket = false;
  for (const FdFingerprint& fp : facts.manifest->fds) {
    if (fp.kind != "socket") continue;
    any_socket = true;
    const std::string label = FdLabel(fp);
    if (!fp.socket.has_value()) {
      f.Fail(absl::StrCat(label, ": socket without a socket fingerprint"));
      continue;
    }
    const SocketFingerprint& s = *fp.socket;
    if (s.family == "unix") continue;  // local: peers are R9's
    if (!IsInet(fp)) {
      f.Fail(absl::StrCat(label, ": socket family ", s.family,
                          " (packet/netlink/other) is not allowed"));
      continue;
    }
    if (s.type != "stream" && s.type != "dgram") {
      f.Fail(absl::StrCat(label, ": ", s.family, " socket of type ", s.type,
                          " (raw/other) is not allowed"));
      continue;
    }
    std::optional<IpEndpoint> peer = IpEndpoint::Parse(s.peer_address);
    if (!peer.has_value()) {
      f.Fail(absl::StrCat(label, ": peer \"", s.peer_address,
                          "\" (listening or unconnected sockets are not allowed)"));
      continue;
    }
    const RolePolicy* role = policy.FindRole(fp.role);
    bool allowed = false;
    if (role != nullptr) {
      for (const EgressRule& r : role->egress) {
        if (r.prefix.Contains(*peer) && r.ports.contains(peer->port)) {
          allowed = true;
          f.Ok(absl::StrCat(label, ": ", s.peer_address, " within ", r.prefix.text));
          break;
        }
      }
    }
    if (!allowed) {
      f.Fail(absl::StrCat(label, ": peer ", s.peer_address, " is not in ",
                          role == nullptr
                              ? std::string("any allow-list (role not in policy)")
                              : absl::StrCat("role ", role->name, "'s egress allow-list")));
    }
  }
  if (any_socket) {
    RequireProperty(facts, "never-allowed", "no new sockets, connect, bind or listen", f);
  }
  if (any_socket && f.outcome() == RuleOutcome::kPass) {
    f.Ok("no socket, connect, bind or listen (proven)");
  }
  return f;
}

// R5: every network peer is in an allowed region according to the signed
// endpoint registry (never IP geolocation).
Findings RuleRegion(const Policy& policy, const PolicyFacts& facts, std::string& pass) {
  Findings f;
  pass = "no network peer: no transfer";
  std::vector<const FdFingerprint*> inet;
  for (const FdFingerprint& fp : facts.manifest->fds) {
    if (IsInet(fp)) inet.push_back(&fp);
  }
  if (inet.empty()) return f;
  if (!policy.registry.has_value()) {
    f.Unknown("policy names no endpoint registry: transfer regions cannot be established");
    return f;
  }
  if (facts.registry == nullptr) {
    f.Unknown("no verified endpoint registry supplied: transfer regions cannot be established");
    return f;
  }
  if (!policy.registry->issuer.empty() && facts.registry->issuer != policy.registry->issuer) {
    f.Fail(absl::StrCat("registry issuer \"", facts.registry->issuer, "\" is not the policy's \"",
                        policy.registry->issuer, "\""));
    return f;
  }
  for (const FdFingerprint* fp : inet) {
    const std::string label = FdLabel(*fp);
    std::optional<IpEndpoint> peer = IpEndpoint::Parse(fp->socket->peer_address);
    if (!peer.has_value()) {
      f.Unknown(absl::StrCat(label, ": no peer address (\"", fp->socket->peer_address, "\")"));
      continue;
    }
    const RolePolicy* role = policy.FindRole(fp->role);
    std::vector<const RegistryEndpoint*> entries = facts.registry->Lookup(*peer);
    if (entries.empty()) {
      f.Fail(absl::StrCat(label, ": peer ", fp->socket->peer_address,
                          " is not in the endpoint registry"));
      continue;
    }
    // Every covering entry must be allowed: overlapping entries with
    // different regions are resolved against the data subject, not for them.
    bool ok = true;
    for (const RegistryEndpoint* e : entries) {
      const bool allowed =
          policy.registry->allowed_regions.contains(e->region) &&
          (role == nullptr || role->regions.empty() || role->regions.contains(e->region));
      if (!allowed) {
        ok = false;
        f.Fail(absl::StrCat(label, ": peer ", fp->socket->peer_address, " is registry endpoint \"",
                            e->name, "\" (", e->prefix.text, ") in region ", e->region,
                            ", not an allowed region"));
        break;
      }
    }
    if (ok) {
      std::set<std::string> regions;
      for (const RegistryEndpoint* e : entries) regions.insert(e->region);
      f.Ok(absl::StrCat(label, ": peer ", fp->socket->peer_address, " in ", JoinSet(regions),
                        " per registry ", facts.registry->issuer));
    }
  }
  return f;
}

// R6: the audit trail can only be appended to.
Findings RuleAppendOnlyAudit(const Policy& policy, const PolicyFacts& facts, std::string& pass) {
  Findings f;
  std::vector<std::string> audit_roles;
  for (const RolePolicy& r : policy.fd_roles) {
    if (r.role_class == RoleClass::kAudit) audit_roles.push_back(r.name);
  }
  pass = "every audit fd is append-only";
  if (audit_roles.empty()) {
    f.Unknown("policy declares no audit role");
    return f;
  }
  bool any = false;
  for (const FdFingerprint& fp : facts.manifest->fds) {
    const RolePolicy* role = policy.FindRole(fp.role);
    if (role == nullptr || role->role_class != RoleClass::kAudit) continue;
    any = true;
    const std::string label = FdLabel(fp);
    if (fp.kind == "file") {
      if (fp.access != "a" || fp.open_mode != "w" || !fp.append) {
        f.Fail(absl::StrCat(label, ": access \"", fp.access, "\", open_mode \"", fp.open_mode,
                            "\", O_APPEND ", fp.append ? "set" : "not set",
                            " (needs a, w, O_APPEND)"));
        continue;
      }
      Findings g;
      RequireProperty(facts, "append-only-kept",
                      absl::StrCat(label, " cannot be truncated or repositioned"), g);
      if (g.outcome() == RuleOutcome::kFail) {
        f.Fail(g.Reason(""));
      } else {
        f.Ok(absl::StrCat(label,
                          ": O_APPEND write-only; truncate, seek, positional writes and "
                          "F_SETFL refused (proven); inode append-only flag not fingerprinted"));
      }
    } else if (IsUnix(fp)) {
      std::string problem = CheckUnixPeer(fp, role->peer, role->name);
      if (problem.empty() && role->peer.exe_sha256.empty()) {
        problem = absl::StrCat(label, ": role ", role->name,
                               " needs peer.exe_sha256 to attest the audit forwarder");
      }
      if (!problem.empty()) {
        f.Fail(std::move(problem));
      } else {
        f.Ok(absl::StrCat(PeerSummary(fp), ": attested audit forwarder"));
      }
    } else {
      f.Fail(absl::StrCat(label, ": a ", fp.kind, " cannot be shown append-only"));
    }
  }
  if (!any) {
    f.Fail(absl::StrCat("no fd has an audit role (", absl::StrJoin(audit_roles, ", "), ")"));
  }
  return f;
}

// R7: writable regular files only on approved stores.
Findings RuleAtRest(const Policy& policy, const PolicyFacts& facts, std::string& pass) {
  Findings f;
  pass = "no writable file";
  for (const FdFingerprint& fp : facts.manifest->fds) {
    if (!WorkloadCanWrite(fp, facts)) continue;
    const std::string label = FdLabel(fp);
    if (fp.kind == "block") {
      f.Fail(absl::StrCat(label, ": writable block device"));
    } else if (fp.kind == "file") {
      if (!fp.mount.has_value()) {
        f.Fail(absl::StrCat(label, ": writable file with no mount recorded"));
      } else if (!policy.approved_write_fs_types.contains(fp.mount->fs_type)) {
        f.Fail(absl::StrCat(label, ": writable file on ", fp.mount->fs_type,
                            ", not an approved store (approved_write_fs_types: ",
                            JoinSet(policy.approved_write_fs_types), ")"));
      } else {
        f.Ok(absl::StrCat(label, ": on approved store ", fp.mount->fs_type));
      }
    }
  }
  return f;
}

// R8: the fd set is exactly what the policy's purpose needs.
Findings RuleMinimisation(const Policy& policy, const PolicyFacts& facts, std::string& pass) {
  Findings f;
  const Manifest& m = *facts.manifest;
  if (m.fds.size() > static_cast<size_t>(policy.max_fds)) {
    f.Fail(absl::StrCat("manifest.fds has ", m.fds.size(), " fds; policy max_fds is ",
                        policy.max_fds));
  }
  std::map<std::string, int> counts;
  std::vector<std::string> undeclared;
  for (const FdFingerprint& fp : m.fds) {
    const std::string label = FdLabel(fp);
    const RolePolicy* role = policy.FindRole(fp.role);
    if (role == nullptr) {
      if (policy.closed_world) {
        f.Fail(absl::StrCat(label, ": role \"", fp.role, "\" is not in the policy (closed world)"));
      } else {
        undeclared.push_back(label);
      }
      continue;
    }
    ++counts[role->name];
    if (!role->kinds.contains(fp.kind)) {
      f.Fail(absl::StrCat(label, ": kind ", fp.kind, " not in the role's kinds (",
                          JoinSet(role->kinds), ")"));
    }
    std::optional<Access> a = FdAccess(fp);
    if (!a.has_value() || !role->access.contains(*a)) {
      f.Fail(absl::StrCat(label, ": access \"", fp.access, "\" not allowed for the role"));
    } else if (fp.kind != "socket") {
      // The description's own mode must be what was declared, so the kernel
      // and the filter agree on what the fd can do.
      const bool consistent = (*a == Access::kRead && fp.open_mode == "r" && !fp.append) ||
                              (*a == Access::kWrite && fp.open_mode == "w" && !fp.append) ||
                              (*a == Access::kReadWrite && fp.open_mode == "rw" && !fp.append) ||
                              (*a == Access::kAppend && fp.open_mode == "w" && fp.append);
      if (!consistent) {
        f.Fail(absl::StrCat(label, ": open_mode \"", fp.open_mode, "\"",
                            fp.append ? "+O_APPEND" : "", " does not match declared access \"",
                            fp.access, "\""));
      }
    }
    if (!role->devices.empty() && (fp.kind == "char" || fp.kind == "block")) {
      const std::pair<uint32_t, uint32_t> dev = {major(fp.stat.rdev), minor(fp.stat.rdev)};
      if (!role->devices.contains(dev)) {
        f.Fail(absl::StrCat(label, ": device ", dev.first, ":", dev.second,
                            " is not in the role's devices"));
      }
    }
  }
  for (const RolePolicy& r : policy.fd_roles) {
    const int n = counts[r.name];
    if (n < r.min_count || n > r.max_count) {
      f.Fail(absl::StrCat("role ", r.name, ": ", n, " fds; policy allows ", r.min_count, "..",
                          r.max_count));
    }
  }
  pass =
      absl::StrCat(m.fds.size(), " fds, each of a policy role with allowed kind, access and count",
                   policy.closed_world ? " (closed world)" : "");
  if (!m.closed_fds.empty()) {
    absl::StrAppend(&pass, "; ", m.closed_fds.size(), " inherited fd(s) closed before exec");
  }
  if (!undeclared.empty()) {
    absl::StrAppend(&pass,
                    "; not governed (closed_world false): ", absl::StrJoin(undeclared, ", "));
  }
  return f;
}

// R9: every peer-connected fd has an authenticated peer.
Findings RulePeerAuth(const Policy& policy, const PolicyFacts& facts, std::string& pass) {
  Findings f;
  pass = "no socket or pipe fd";
  for (const FdFingerprint& fp : facts.manifest->fds) {
    const std::string label = FdLabel(fp);
    const RolePolicy* role = policy.FindRole(fp.role);
    if (IsUnix(fp)) {
      if (role == nullptr) {
        f.Fail(absl::StrCat(label, ": unix socket with a role the policy does not define"));
        continue;
      }
      std::string problem = CheckUnixPeer(fp, role->peer, role->name);
      if (!problem.empty()) {
        f.Fail(std::move(problem));
      } else {
        f.Ok(absl::StrCat(PeerSummary(fp), " authenticated by SO_PEERCRED"));
      }
    } else if (fp.kind == "socket") {
      f.Unknown(absl::StrCat(label, ": ", fp.socket ? fp.socket->family : std::string("socket"),
                             " peer authentication (e.g. a TLS certificate) is not fingerprinted"));
    } else if (fp.kind == "fifo") {
      f.Unknown(absl::StrCat(label, ": pipe peers are recorded as pids only (no credential)"));
    }
  }
  return f;
}

// R10: the workload is the expected executable on an identified attester.
Findings RuleIdentity(const Policy& policy, const PolicyFacts& facts, std::string& pass) {
  Findings f;
  const Manifest& m = *facts.manifest;
  if (!policy.exe_sha256.contains(m.exe_sha256)) {
    f.Fail(absl::StrCat("manifest.exe.sha256 ", m.exe_sha256, " is not in workload.exe_sha256"));
  }
  if (!m.attested) f.Fail("manifest.attested is false: the launch was not measured");
  if (m.launch_id.size() != 32 || !IsLowerHex(m.launch_id)) {
    f.Fail(absl::StrCat("manifest.launch_id \"", m.launch_id, "\" is not 128-bit lowercase hex"));
  }
  if (facts.ak_name_hex.empty()) {
    f.Unknown("no attester identity (AK name) supplied");
  } else if (!IsLowerHex(facts.ak_name_hex) || facts.ak_name_hex.size() % 2 != 0) {
    f.Fail(absl::StrCat("attester AK name \"", facts.ak_name_hex, "\" is not lowercase hex"));
  } else if (!policy.ak_names.empty() && !policy.ak_names.contains(facts.ak_name_hex)) {
    f.Fail(absl::StrCat("attester AK ", facts.ak_name_hex, " is not in workload.ak_names"));
  }
  pass = absl::StrCat("exe sha256 ", Short(m.exe_sha256), " allowed; attester AK ",
                      Short(facts.ak_name_hex), policy.ak_names.empty() ? "" : " allowed",
                      "; launch ", m.launch_id);
  return f;
}

// R11: the evidence is fresh and the TPM's clock and epoch continuous.
Findings RuleFreshness(const Policy&, const PolicyFacts& facts, std::string& pass) {
  Findings f;
  if (!facts.clock_safe) f.Fail("TPM clockInfo.safe is 0: the clock may have been rolled back");
  if (facts.nonce == PolicyFacts::Nonce::kNotChecked) {
    f.Unknown("no expected nonce: freshness not established");
  }
  // Continuity within the launch is established by the pipeline (the log's
  // epoch record carries the resetCount the TPM signed, or the chain is
  // broken). Counters against this attester's previous attestation guard
  // against replay, which a fresh nonce already excludes: on first contact
  // they become the baseline rather than a gap.
  pass = absl::StrCat("nonce fresh; clock safe; launch and attestation in one TPM epoch (resetCount ",
                      facts.reset_count, ", restartCount ", facts.restart_count, ")",
                      facts.counters_checked ? "; not behind this attester's previous attestation"
                                             : "; first attestation seen from this attester");
  return f;
}

// R12: no channel out of the fd set through the process itself.
Findings RuleLeakChannels(const Policy&, const PolicyFacts& facts, std::string& pass) {
  Findings f;
  const Manifest& m = *facts.manifest;
  auto core = m.rlimits.find("core");
  if (core == m.rlimits.end()) {
    f.Fail("manifest.rlimits has no \"core\": core dumps not shown disabled");
  } else if (core->second.first > 1 || core->second.second > 1) {
    f.Fail(absl::StrCat("manifest.rlimits.core is soft ", core->second.first, " hard ",
                        core->second.second, ": core dumps possible (needs <= 1)"));
  }
  RequireProperty(facts, "never-allowed", "no ptrace/process_vm_* by the workload", f);
  RequireProperty(facts, "process-confined",
                  "no prlimit64 raising the core limit, no task name set (/proc/PID/comm)", f);
  RequireProperty(facts, "default-refuses", "no setrlimit", f);
  for (const FdFingerprint& fp : m.fds) {
    if (fp.mount && KernelPseudoFs().contains(fp.mount->fs_type) && WorkloadCanWrite(fp, facts)) {
      f.Fail(absl::StrCat(FdLabel(fp), ": writable fd on ", fp.mount->fs_type));
    }
  }
  pass = absl::StrCat(
      "rlimits.core ", core == m.rlimits.end() ? 0 : core->second.first, "/",
      core == m.rlimits.end() ? 0 : core->second.second,
      " (no file or pipe dumps); the workload's ptrace, process_vm_*, limit changes and task "
      "name changes refused (proven); no writable fd on proc/sysfs-like mounts; not covered: "
      "tracing by another process (dumpable/TracerPid are not in the manifest), and what the "
      "workload shows in /proc by itself (argv area in /proc/PID/cmdline, signal masks, thread "
      "count, memory sizes), readable by other local processes (hidepid on the host's /proc "
      "hides the per-process files from other uids only)");
  return f;
}

// R13: executable, filter, launcher and profile are the reference ones.
Findings RuleIntegrity(const Policy& policy, const PolicyFacts& facts, std::string& pass) {
  Findings f;
  const Manifest& m = *facts.manifest;
  if (!policy.exe_sha256.contains(m.exe_sha256)) {
    f.Fail(absl::StrCat("manifest.exe.sha256 ", m.exe_sha256, " is not a reference value"));
  }
  // Manifest::Parse leaves the digest it checked against the bytes.
  const std::string filter_hex = m.filter.verified_sha256.empty() ? HexEncode(Sha256(m.filter.bpf))
                                                                  : m.filter.verified_sha256;
  std::string filter_note;
  if (facts.filter_sha256 != filter_hex) {
    f.Fail(absl::StrCat("filter sha256 ", facts.filter_sha256,
                        " is not the digest of the manifest's filter (", filter_hex, ")"));
  } else if (!policy.filter_sha256.empty()) {
    if (!policy.filter_sha256.contains(filter_hex)) {
      f.Fail(absl::StrCat("filter sha256 ", filter_hex, " is not in workload.filter_sha256"));
    }
    filter_note = "filter a reference value";
  } else if (!facts.filter_proven) {
    f.Fail("filter has no reference digest and is not proven");
  } else {
    filter_note = "filter judged by proof (no reference digest)";
  }
  if (!policy.profile_sha256.empty() && !policy.profile_sha256.contains(m.profile_sha256)) {
    f.Fail(absl::StrCat("manifest.profile.sha256 ", m.profile_sha256,
                        " is not in workload.profile_sha256"));
  }
  if (policy.launcher_sha256.empty()) {
    f.Unknown(absl::StrCat("policy lists no workload.launcher_sha256: launcher ",
                           Short(m.launcher_sha256), " not checked"));
  } else if (!policy.launcher_sha256.contains(m.launcher_sha256)) {
    f.Fail(absl::StrCat("manifest.launcher.sha256 ", m.launcher_sha256,
                        " is not in workload.launcher_sha256"));
  }
  pass = absl::StrCat("exe ", Short(m.exe_sha256), ", launcher ", Short(m.launcher_sha256),
                      policy.profile_sha256.empty() ? "" : ", profile", " reference values; ",
                      filter_note, "; loaded libraries not fingerprinted");
  return f;
}

// R14: retention as the policy states it; the manifest carries digests,
// ids and names only.
Findings RuleRetention(const Policy& policy, const PolicyFacts&, std::string& pass) {
  Findings f;
  if (!policy.retention_days.has_value()) {
    f.Unknown("policy states no retention_days");
  } else if (*policy.retention_days < kMinRetentionDays) {
    f.Fail(absl::StrCat("policy.retention_days ", *policy.retention_days, " is below ",
                        kMinRetentionDays, " (6 years)"));
  }
  pass = absl::StrCat("policy retains evidence ", policy.retention_days.value_or(0),
                      " days (>= 6 years); the manifest records env names, never values; "
                      "archive retention and argv/path contents are not checked here");
  return f;
}

struct RuleImpl {
  RuleFn fn;
  bool needs_manifest;
};

constexpr RuleImpl kImpls[kRuleCount] = {
    {RuleClosedWorld, false},    {RuleVettedInput, true}, {RuleReadOnlyInput, true},
    {RuleEncryptedOutput, true}, {RuleEgress, true},      {RuleRegion, true},
    {RuleAppendOnlyAudit, true}, {RuleAtRest, true},      {RuleMinimisation, true},
    {RulePeerAuth, true},        {RuleIdentity, true},    {RuleFreshness, false},
    {RuleLeakChannels, true},    {RuleIntegrity, true},   {RuleRetention, false},
};

}  // namespace

std::vector<RuleResult> EvaluatePolicy(const Policy& policy, const PolicyFacts& facts) {
  std::vector<RuleResult> out;
  out.reserve(kRuleCount);
  for (size_t i = 0; i < kRuleCount; ++i) {
    const RuleSpec& spec = kRules[i];
    RuleResult r{.id = spec.id, .title = spec.title, .citation = {spec.hipaa, spec.gdpr}};
    if (kImpls[i].needs_manifest && facts.manifest == nullptr) {
      r.outcome = RuleOutcome::kNotEvaluable;
      r.reason = "no verified manifest";
    } else {
      std::string pass;
      Findings f = kImpls[i].fn(policy, facts, pass);
      r.outcome = f.outcome();
      r.reason = f.Reason(pass);
    }
    r.fatal = r.outcome == RuleOutcome::kFail ||
              (r.outcome == RuleOutcome::kNotEvaluable && policy.NotEvaluableIsFatal(spec.id));
    out.push_back(std::move(r));
  }
  return out;
}

std::map<std::string, int> TrustVectorFromRules(const std::vector<RuleResult>& results) {
  struct Claim {
    const char* name;
    std::vector<const char*> rules;
    int warning;  // the claim's value when a rule is not evaluable (non-fatal)
  };
  // Values from draft-ietf-rats-ear AR4SI (veraison/ear trustclaim.go).
  static const Claim kClaims[] = {
      {"instance-identity", {"R10"}, 0},           // no warning value: make no claim
      {"configuration", {"R0", "R8", "R12"}, 32},  // unsafe
      {"executables", {"R13"}, 33},                // unrecognized runtime
      {"file-system", {"R1", "R2", "R7"}, 32},     // unrecognized
      {"sourced-data", {"R1", "R5"}, 32},          // untrusted sources
  };
  std::map<std::string, int> vector;
  for (const Claim& c : kClaims) {
    int value = 2;
    bool seen = false;
    for (const char* id : c.rules) {
      for (const RuleResult& r : results) {
        if (r.id != id) continue;
        seen = true;
        if (r.outcome == RuleOutcome::kFail ||
            (r.outcome == RuleOutcome::kNotEvaluable && r.fatal)) {
          value = 96;
        } else if (r.outcome == RuleOutcome::kNotEvaluable && value != 96) {
          value = c.warning;
        }
      }
    }
    // A claim none of whose rules ran is no claim (AR4SI 0), never "affirming".
    if (!seen) value = 0;
    if (value != 0) vector[c.name] = value;
  }
  // storage-opaque: an output on an encrypted volume says nothing about
  // where the keys live (AR4SI 2 means hardware-held keys): only the
  // negative is claimed. runtime-opaque: a process sandbox makes no claim
  // about memory encryption; AR4SI 0 ("no claim") rather than 32, which
  // would cap every result at "warning" for want of a TEE.
  for (const RuleResult& r : results) {
    if ((r.id == "R3" || r.id == "R7") && r.outcome == RuleOutcome::kFail) {
      vector["storage-opaque"] = 96;
    }
  }
  return vector;
}

}  // namespace fdattest
