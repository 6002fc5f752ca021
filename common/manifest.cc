#include "common/manifest.h"

#include <set>

#include "absl/strings/str_cat.h"
#include "common/base64.h"
#include "common/profile.h"
#include "common/sha256.h"

namespace fdattest {
namespace {

Json StorageToJson(const StorageFingerprint& s) {
  Json j = {{"fs_magic", s.fs_magic}, {"encryption", s.encryption}};
  if (s.fscrypt) {
    const FscryptPolicy& p = *s.fscrypt;
    j["fscrypt"] = {{"version", p.version},
                    {"contents_mode", p.contents_mode},
                    {"filenames_mode", p.filenames_mode},
                    {"flags", p.flags},
                    {p.version == 1 ? "master_key_descriptor" : "master_key_identifier", p.key}};
  }
  return j;
}

}  // namespace

Json FdFingerprintToJson(const FdFingerprint& fp) {
  Json j;
  j["fd"] = fp.fd;
  if (!fp.role.empty()) j["role"] = fp.role;
  if (!fp.access.empty()) j["access"] = fp.access;
  j["source"] = fp.source;
  if (fp.path) j["path"] = *fp.path;
  j["kind"] = fp.kind;
  j["stat"] = {{"dev", fp.stat.dev},   {"ino", fp.stat.ino},     {"rdev", fp.stat.rdev},
               {"size", fp.stat.size}, {"nlink", fp.stat.nlink}, {"mode", fp.stat.mode},
               {"uid", fp.stat.uid},   {"gid", fp.stat.gid}};
  j["open_mode"] = fp.open_mode;
  j["append"] = fp.append;
  if (fp.mount) {
    j["mount"] = {{"mnt_id", fp.mount->mnt_id},
                  {"fs_type", fp.mount->fs_type},
                  {"read_only", fp.mount->read_only}};
  }
  if (fp.storage) j["storage"] = StorageToJson(*fp.storage);
  if (fp.content_sha256) j["content_sha256"] = *fp.content_sha256;
  if (fp.memfd_seals) j["memfd_seals"] = *fp.memfd_seals;
  if (fp.anon_type) j["anon_type"] = *fp.anon_type;
  if (fp.secret) j["secret"] = *fp.secret;
  if (fp.socket) {
    const SocketFingerprint& s = *fp.socket;
    Json sj = {{"family", s.family},
               {"type", s.type},
               {"protocol", s.protocol},
               {"local_address", s.local_address},
               {"peer_address", s.peer_address}};
    if (s.peer_cred) {
      Json pc = {{"pid", s.peer_cred->pid}, {"uid", s.peer_cred->uid}, {"gid", s.peer_cred->gid}};
      if (s.peer_cred->exe_sha256) pc["exe_sha256"] = *s.peer_cred->exe_sha256;
      if (s.peer_cred->exe_path) pc["exe_path"] = *s.peer_cred->exe_path;
      sj["peer_cred"] = pc;
    }
    if (s.tcp_ulp) sj["tcp_ulp"] = *s.tcp_ulp;
    j["socket"] = sj;
  }
  if (fp.kind == "fifo") j["pipe_peer_pids"] = fp.pipe_peer_pids;
  return j;
}

Json ReleaseKey::ToJwk() const { return {{"crv", "P-256"}, {"kty", "EC"}, {"x", x}, {"y", y}}; }

Json Manifest::ToJson() const {
  Json j;
  j["version"] = version;
  j["launch_id"] = launch_id;
  j["time"] = time;
  j["profile"] = {{"name", profile_name}, {"sha256", profile_sha256}};
  j["exe"] = {{"path", exe_path}, {"sha256", exe_sha256}};
  j["argv"] = argv;
  j["env_names"] = env_names;
  j["credentials"] = {{"uid", uid}, {"gid", gid}, {"euid", euid}, {"egid", egid}};
  j["namespaces"] = namespaces;
  Json rl = Json::object();
  for (const auto& [name, limits] : rlimits) {
    rl[name] = {{"soft", limits.first}, {"hard", limits.second}};
  }
  j["rlimits"] = rl;
  j["no_new_privs"] = no_new_privs;
  j["no_capabilities"] = no_capabilities;
  j["attested"] = attested;
  j["launcher"] = {{"version", launcher_version}, {"sha256", launcher_sha256}};
  Json fds_json = Json::array();
  for (const auto& fp : fds) fds_json.push_back(FdFingerprintToJson(fp));
  j["fds"] = fds_json;
  Json closed_json = Json::array();
  for (const auto& fp : closed_fds) closed_json.push_back(FdFingerprintToJson(fp));
  j["closed_fds"] = closed_json;
  j["filter"] = {{"bpf_base64", Base64Encode(filter.bpf)},
                 {"sha256", HexEncode(Sha256(filter.bpf))},
                 {"instructions", filter.bpf.size() / 8},
                 {"install_flags", filter.install_flags},
                 {"on_violation", filter.on_violation},
                 {"exec_fd", filter.exec_fd},
                 {"arch", "x86_64"}};
  if (release_key) j["release_key"] = release_key->ToJwk();
  return j;
}

}  // namespace fdattest

// ---------------------------------------------------------------------------
// Strict parsing (the verifier's side).

namespace fdattest {
namespace {

constexpr size_t kMaxManifestBytes = 1 << 20;
constexpr size_t kMaxArgs = 4096;
constexpr size_t kMaxClosedFds = 4096;
constexpr size_t kMaxTextBytes = 4096;
constexpr int64_t kMaxFdNumber = (1 << 20);

bool OneOf(absl::string_view value, std::initializer_list<absl::string_view> allowed) {
  for (absl::string_view a : allowed) {
    if (value == a) return true;
  }
  return false;
}

// Reads a string field and applies `valid`; records an error naming the key.
class ManifestReader {
 public:
  explicit ManifestReader(JsonValueFields& f) : f_(f) {}

  std::string Text(absl::string_view key) {
    std::optional<std::string> v = f_.String(key, true);
    if (v && v->size() > kMaxTextBytes) Bad(key, "is too long");
    return v.value_or("");
  }
  std::optional<std::string> OptionalText(absl::string_view key) {
    std::optional<std::string> v = f_.String(key, false);
    if (v && v->size() > kMaxTextBytes) Bad(key, "is too long");
    return v;
  }
  std::string Digest(absl::string_view key) {
    std::string v = Text(key);
    if (!(v.size() == 64 && IsLowerHex(v))) Bad(key, "must be 64 lowercase hex digits");
    return v;
  }
  std::string Choice(absl::string_view key, std::initializer_list<absl::string_view> allowed) {
    std::string v = Text(key);
    if (!OneOf(v, allowed)) Bad(key, absl::StrCat("has an unknown value \"", v, "\""));
    return v;
  }
  void Bad(absl::string_view key, absl::string_view what) {
    if (error_.ok()) {
      error_ = absl::InvalidArgumentError(absl::StrCat(f_.where(), ".", key, " ", what));
    }
  }
  // The first error: a reader's own (type, unknown key) before a value check.
  absl::Status Finish() {
    RETURN_IF_ERROR(f_.Finish());
    return error_;
  }

 private:
  JsonValueFields& f_;
  absl::Status error_;
};

absl::StatusOr<std::vector<std::string>> StringList(const JsonValue* array, absl::string_view where,
                                                    size_t max) {
  std::vector<std::string> out;
  if (array == nullptr) return out;
  if (array->size() > max) {
    return absl::InvalidArgumentError(absl::StrCat(where, " has more than ", max, " entries"));
  }
  for (const JsonValue& v : *array) {
    if (!v.is_string() || v.str().size() > kMaxTextBytes) {
      return absl::InvalidArgumentError(absl::StrCat(where, " must hold strings"));
    }
    out.push_back(v.get<std::string>());
  }
  return out;
}

absl::StatusOr<StorageFingerprint> StorageFromJson(const JsonValue& json, const std::string& where) {
  JsonValueFields f(json, where);
  ManifestReader r(f);
  StorageFingerprint s;
  s.fs_magic = f.Uint("fs_magic", true, UINT64_MAX).value_or(0);
  s.encryption = r.Choice("encryption", {kEncryptionFscrypt, kEncryptionNone,
                                         kEncryptionUnsupported, kEncryptionUnknown});
  if (const JsonValue* policy = f.Object("fscrypt", false)) {
    JsonValueFields p(*policy, where + ".fscrypt");
    ManifestReader pr(p);
    FscryptPolicy fc;
    fc.version = static_cast<int>(p.Int("version", true, 1, 2).value_or(0));
    fc.contents_mode = static_cast<uint32_t>(p.Uint("contents_mode", true, 255).value_or(0));
    fc.filenames_mode = static_cast<uint32_t>(p.Uint("filenames_mode", true, 255).value_or(0));
    fc.flags = static_cast<uint32_t>(p.Uint("flags", true, 255).value_or(0));
    // v1 names its key by an 8-byte descriptor, v2 by a 16-byte identifier.
    const absl::string_view key_name =
        fc.version == 1 ? "master_key_descriptor" : "master_key_identifier";
    const size_t key_hex = fc.version == 1 ? 16 : 32;
    fc.key = pr.Text(key_name);
    if (!(fc.key.size() == key_hex && IsLowerHex(fc.key))) {
      pr.Bad(key_name, absl::StrCat("must be ", key_hex, " lowercase hex digits"));
    }
    RETURN_IF_ERROR(pr.Finish());
    s.fscrypt = fc;
  }
  RETURN_IF_ERROR(r.Finish());
  if ((s.encryption == kEncryptionFscrypt) != s.fscrypt.has_value()) {
    return absl::InvalidArgumentError(
        absl::StrCat(where, ".fscrypt must be present exactly when encryption is \"fscrypt\""));
  }
  return s;
}

// A P-256 coordinate: 43 base64url characters (32 bytes). Whether the point
// is on the curve is checked by whoever uses the key.
bool IsCoordinate(absl::string_view text) {
  if (text.size() != 43) return false;
  absl::StatusOr<std::string> raw = Base64UrlDecode(text);
  return raw.ok() && raw->size() == 32;
}

absl::StatusOr<ReleaseKey> ReleaseKeyFromJson(const JsonValue& json) {
  JsonValueFields f(json, "manifest.release_key");
  ManifestReader r(f);
  r.Choice("kty", {"EC"});
  r.Choice("crv", {"P-256"});
  ReleaseKey key;
  key.x = r.Text("x");
  key.y = r.Text("y");
  if (!IsCoordinate(key.x)) r.Bad("x", "must be 32 bytes as unpadded base64url");
  if (!IsCoordinate(key.y)) r.Bad("y", "must be 32 bytes as unpadded base64url");
  RETURN_IF_ERROR(r.Finish());
  return key;
}

absl::StatusOr<FdFingerprint> FingerprintFromJson(const JsonValue& json, const std::string& where,
                                                  bool declared) {
  FdFingerprint fp;
  JsonValueFields f(json, where);
  ManifestReader r(f);
  fp.fd = static_cast<int>(f.Int("fd", true, 0, declared ? kMaxDeclaredFd : kMaxFdNumber).value_or(-1));
  if (declared) {
    fp.role = r.Text("role");
    if (fp.role.empty()) r.Bad("role", "must not be empty");
    fp.access = r.Choice("access", {"r", "w", "rw", "a"});
    fp.source = r.Choice("source", {"inherit", "open", "connect", "null", "secret"});
  } else {
    fp.source = r.Choice("source", {"inherited"});
  }
  fp.path = r.OptionalText("path");
  fp.kind = r.Choice("kind", {"file", "dir", "char", "block", "fifo", "socket", "anon", "other"});
  if (const JsonValue* stat = f.Object("stat", true)) {
    JsonValueFields s(*stat, where + ".stat");
    fp.stat.dev = s.Uint("dev", true, UINT64_MAX).value_or(0);
    fp.stat.ino = s.Uint("ino", true, UINT64_MAX).value_or(0);
    fp.stat.rdev = s.Uint("rdev", true, UINT64_MAX).value_or(0);
    fp.stat.size = s.Uint("size", true, UINT64_MAX).value_or(0);
    fp.stat.nlink = s.Uint("nlink", true, UINT64_MAX).value_or(0);
    fp.stat.mode = static_cast<uint32_t>(s.Uint("mode", true, UINT32_MAX).value_or(0));
    fp.stat.uid = static_cast<uint32_t>(s.Uint("uid", true, UINT32_MAX).value_or(0));
    fp.stat.gid = static_cast<uint32_t>(s.Uint("gid", true, UINT32_MAX).value_or(0));
    RETURN_IF_ERROR(s.Finish());
  }
  fp.open_mode = r.Choice("open_mode", {"r", "w", "rw", "path"});
  fp.append = f.Bool("append", true).value_or(false);
  if (const JsonValue* mount = f.Object("mount", false)) {
    JsonValueFields m(*mount, where + ".mount");
    ManifestReader mr(m);
    MountFingerprint mf;
    mf.mnt_id = m.Int("mnt_id", true, -1, INT64_MAX).value_or(-1);
    mf.fs_type = mr.Text("fs_type");
    mf.read_only = m.Bool("read_only", true).value_or(false);
    RETURN_IF_ERROR(mr.Finish());
    fp.mount = mf;
  }
  if (const JsonValue* storage = f.Object("storage", false)) {
    ASSIGN_OR_RETURN(fp.storage, StorageFromJson(*storage, where + ".storage"));
  }
  if (f.Has("content_sha256")) fp.content_sha256 = r.Digest("content_sha256");
  if (std::optional<uint64_t> seals = f.Uint("memfd_seals", false, UINT32_MAX)) {
    fp.memfd_seals = static_cast<uint32_t>(*seals);
  }
  fp.anon_type = r.OptionalText("anon_type");
  fp.secret = r.OptionalText("secret");
  if (fp.secret && !IsSecretName(*fp.secret)) r.Bad("secret", "must be 1..64 of A-Za-z0-9._-");
  if (const JsonValue* sock = f.Object("socket", false)) {
    JsonValueFields s(*sock, where + ".socket");
    ManifestReader sr(s);
    SocketFingerprint sf;
    sf.family = sr.Text("family");
    sf.type = sr.Text("type");
    sf.protocol = static_cast<int>(s.Int("protocol", true, 0, INT32_MAX).value_or(0));
    sf.local_address = sr.Text("local_address");
    sf.peer_address = sr.Text("peer_address");
    if (const JsonValue* pc = s.Object("peer_cred", false)) {
      JsonValueFields p(*pc, where + ".socket.peer_cred");
      ManifestReader pr(p);
      PeerCred cred;
      cred.pid = p.Int("pid", true, 0, INT32_MAX).value_or(0);
      cred.uid = static_cast<uint32_t>(p.Uint("uid", true, UINT32_MAX).value_or(0));
      cred.gid = static_cast<uint32_t>(p.Uint("gid", true, UINT32_MAX).value_or(0));
      if (p.Has("exe_sha256")) cred.exe_sha256 = pr.Digest("exe_sha256");
      cred.exe_path = pr.OptionalText("exe_path");
      RETURN_IF_ERROR(pr.Finish());
      sf.peer_cred = cred;
    }
    sf.tcp_ulp = sr.OptionalText("tcp_ulp");
    RETURN_IF_ERROR(sr.Finish());
    fp.socket = sf;
  }
  if (const JsonValue* pids = f.Array("pipe_peer_pids", false)) {
    if (pids->size() > kMaxClosedFds) r.Bad("pipe_peer_pids", "is too long");
    for (const JsonValue& pid : *pids) {
      if (!pid.is_number_integer() || pid.get<int64_t>() < 1 || pid.get<int64_t>() > INT32_MAX) {
        r.Bad("pipe_peer_pids", "must hold process ids");
        break;
      }
      fp.pipe_peer_pids.push_back(pid.get<int64_t>());
    }
  }
  RETURN_IF_ERROR(r.Finish());
  // Kind-specific fields appear exactly when they apply (manifest.md).
  if ((fp.kind == "fifo") != json.contains("pipe_peer_pids")) {
    return absl::InvalidArgumentError(
        absl::StrCat(where, ".pipe_peer_pids must be present exactly for a fifo"));
  }
  if ((fp.kind == "socket") != fp.socket.has_value()) {
    return absl::InvalidArgumentError(
        absl::StrCat(where, ".socket must be present exactly for a socket"));
  }
  if ((fp.source == "secret") != fp.secret.has_value()) {
    return absl::InvalidArgumentError(
        absl::StrCat(where, ".secret must be present exactly for source \"secret\""));
  }
  if (fp.anon_type && fp.kind != "anon") {
    return absl::InvalidArgumentError(absl::StrCat(where, ".anon_type applies only to anon"));
  }
  // Optional on files and directories (absent in manifests from launchers
  // before the field: nothing is known about where the file lives).
  if (fp.storage && fp.kind != "file" && fp.kind != "dir") {
    return absl::InvalidArgumentError(absl::StrCat(where, ".storage applies only to file and dir"));
  }
  if ((fp.content_sha256 || fp.memfd_seals) && fp.kind != "file") {
    return absl::InvalidArgumentError(
        absl::StrCat(where, ": content_sha256 and memfd_seals apply only to files"));
  }
  return fp;
}

absl::StatusOr<std::vector<FdFingerprint>> FingerprintList(const JsonValue* array,
                                                           const std::string& where,
                                                           bool declared) {
  std::vector<FdFingerprint> out;
  if (array == nullptr) return out;
  size_t max = declared ? kMaxDeclaredFds : kMaxClosedFds;
  if (array->size() > max) {
    return absl::InvalidArgumentError(absl::StrCat(where, " has more than ", max, " entries"));
  }
  out.reserve(array->size());
  for (size_t i = 0; i < array->size(); ++i) {
    ASSIGN_OR_RETURN(FdFingerprint fp,
                     FingerprintFromJson((*array)[i], absl::StrCat(where, "[", i, "]"), declared));
    // Sorted by fd, each once: a repeat is next to its first.
    if (i > 0 && fp.fd == out.back().fd) {
      return absl::InvalidArgumentError(absl::StrCat(where, "[", i, "]: fd ", fp.fd, " repeats"));
    }
    if (i > 0 && fp.fd < out.back().fd) {
      return absl::InvalidArgumentError(absl::StrCat(where, " is not sorted by fd"));
    }
    out.push_back(std::move(fp));
  }
  return out;
}

}  // namespace

absl::StatusOr<Manifest> Manifest::FromJson(const JsonValue& json) {
  Manifest m;
  JsonValueFields f(json, "manifest");
  ManifestReader r(f);
  m.version = static_cast<int>(f.Int("version", true, kManifestVersion, kManifestVersion).value_or(0));
  m.launch_id = r.Text("launch_id");
  if (!(m.launch_id.size() == 32 && IsLowerHex(m.launch_id))) r.Bad("launch_id", "must be 32 lowercase hex digits");
  m.time = r.Text("time");
  if (const JsonValue* profile = f.Object("profile", true)) {
    JsonValueFields p(*profile, "manifest.profile");
    ManifestReader pr(p);
    m.profile_name = pr.Text("name");
    m.profile_sha256 = pr.Digest("sha256");
    RETURN_IF_ERROR(pr.Finish());
  }
  if (const JsonValue* exe = f.Object("exe", true)) {
    JsonValueFields e(*exe, "manifest.exe");
    ManifestReader er(e);
    m.exe_path = er.Text("path");
    m.exe_sha256 = er.Digest("sha256");
    RETURN_IF_ERROR(er.Finish());
  }
  ASSIGN_OR_RETURN(m.argv, StringList(f.Array("argv", true), "manifest.argv", kMaxArgs));
  ASSIGN_OR_RETURN(m.env_names,
                   StringList(f.Array("env_names", true), "manifest.env_names", kMaxArgs));
  if (const JsonValue* cred = f.Object("credentials", true)) {
    JsonValueFields c(*cred, "manifest.credentials");
    m.uid = static_cast<uint32_t>(c.Uint("uid", true, UINT32_MAX).value_or(0));
    m.gid = static_cast<uint32_t>(c.Uint("gid", true, UINT32_MAX).value_or(0));
    m.euid = static_cast<uint32_t>(c.Uint("euid", true, UINT32_MAX).value_or(0));
    m.egid = static_cast<uint32_t>(c.Uint("egid", true, UINT32_MAX).value_or(0));
    RETURN_IF_ERROR(c.Finish());
  }
  if (const JsonValue* ns = f.Object("namespaces", true)) {
    if (ns->size() > 32) return absl::InvalidArgumentError("manifest.namespaces is too large");
    for (size_t i = 0; i < ns->size(); ++i) {
      if (!(*ns)[i].is_string()) {
        return absl::InvalidArgumentError(
            absl::StrCat("manifest.namespaces.", ns->key(i), " must be a string"));
      }
      m.namespaces[std::string(ns->key(i))] = (*ns)[i].get<std::string>();
    }
  }
  if (const JsonValue* rl = f.Object("rlimits", true)) {
    if (rl->size() > 32) return absl::InvalidArgumentError("manifest.rlimits is too large");
    for (size_t i = 0; i < rl->size(); ++i) {
      JsonValueFields l((*rl)[i], absl::StrCat("manifest.rlimits.", rl->key(i)));
      uint64_t soft = l.Uint("soft", true, UINT64_MAX).value_or(0);
      uint64_t hard = l.Uint("hard", true, UINT64_MAX).value_or(0);
      RETURN_IF_ERROR(l.Finish());
      m.rlimits[std::string(rl->key(i))] = {soft, hard};
    }
  }
  m.no_new_privs = f.Bool("no_new_privs", true).value_or(false);
  // Optional: manifests from launchers before the field say nothing, and
  // fail R0 as "not true" rather than as unreadable evidence.
  m.no_capabilities = f.Bool("no_capabilities", false).value_or(false);
  m.attested = f.Bool("attested", true).value_or(false);
  if (const JsonValue* launcher = f.Object("launcher", true)) {
    JsonValueFields l(*launcher, "manifest.launcher");
    ManifestReader lr(l);
    m.launcher_version = lr.Text("version");
    m.launcher_sha256 = lr.Digest("sha256");
    RETURN_IF_ERROR(lr.Finish());
  }
  ASSIGN_OR_RETURN(m.fds, FingerprintList(f.Array("fds", true), "manifest.fds", true));
  ASSIGN_OR_RETURN(m.closed_fds,
                   FingerprintList(f.Array("closed_fds", true), "manifest.closed_fds", false));
  if (const JsonValue* filter = f.Object("filter", true)) {
    JsonValueFields ff(*filter, "manifest.filter");
    ManifestReader fr(ff);
    fr.Choice("arch", {"x86_64"});
    std::optional<std::string> bpf_base64 = ff.String("bpf_base64", true);
    std::string sha = fr.Digest("sha256");
    uint64_t instructions = ff.Uint("instructions", true, 4096).value_or(0);
    m.filter.install_flags = static_cast<uint32_t>(ff.Uint("install_flags", true, UINT32_MAX).value_or(0));
    m.filter.on_violation = fr.Choice("on_violation", {"errno", "kill"});
    m.filter.exec_fd = static_cast<int>(ff.Int("exec_fd", true, -1, kMaxFdNumber).value_or(-1));
    RETURN_IF_ERROR(fr.Finish());
    // The filter's text is bounded by the manifest's own size limit.
    ASSIGN_OR_RETURN(m.filter.bpf, Base64Decode(*bpf_base64));
    if (m.filter.bpf.empty() || m.filter.bpf.size() % 8 != 0 ||
        m.filter.bpf.size() / 8 != instructions) {
      return absl::InvalidArgumentError(
          "manifest.filter: bpf_base64 must hold `instructions` 8-byte instructions");
    }
    if (HexEncode(Sha256(m.filter.bpf)) != sha) {
      return absl::InvalidArgumentError("manifest.filter.sha256 is not the sha256 of its bytes");
    }
    m.filter.verified_sha256 = std::move(sha);
  }
  if (const JsonValue* key = f.Object("release_key", false)) {
    ASSIGN_OR_RETURN(m.release_key, ReleaseKeyFromJson(*key));
  }
  RETURN_IF_ERROR(r.Finish());
  return m;
}

absl::StatusOr<Manifest> Manifest::Parse(absl::string_view bytes) {
  if (bytes.size() > kMaxManifestBytes) {
    return absl::InvalidArgumentError("manifest is larger than 1 MiB");
  }
  ASSIGN_OR_RETURN(JsonDocument doc,
                   ParseJsonDocumentBorrowing(bytes, JsonLimits{.max_bytes = kMaxManifestBytes,
                                                               .max_depth = 8}));
  ASSIGN_OR_RETURN(Manifest m, FromJson(doc.root()));
  // One spelling per manifest: the bytes must be the canonical serialisation
  // of what they parse to. FromJson reads every key it accepts (unknown keys
  // are errors), so nothing can hide beside the values it returns.
  if (!doc.canonical()) return absl::InvalidArgumentError("manifest is not in canonical form");
  return m;
}

}  // namespace fdattest
