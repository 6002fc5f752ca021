#include "common/observation.h"

#include <fcntl.h>

#include <cstdio>
#include <limits>
#include <set>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/sha256.h"

namespace fdattest {
namespace {

constexpr size_t kMaxObservedFds = 1024;
constexpr size_t kMaxObservedFilters = 64;
constexpr size_t kMaxNamespaces = 32;
constexpr size_t kMaxText = 4096;

constexpr std::pair<const char*, uint64_t KernelObservation::*> kCaps[] = {
    {"ambient", &KernelObservation::cap_ambient},
    {"bounding", &KernelObservation::cap_bounding},
    {"effective", &KernelObservation::cap_effective},
    {"inheritable", &KernelObservation::cap_inheritable},
    {"permitted", &KernelObservation::cap_permitted},
};

std::string CapHex(uint64_t v) {
  char buf[17];
  snprintf(buf, sizeof(buf), "%016llx", static_cast<unsigned long long>(v));
  return buf;
}

bool IsDigestHex(absl::string_view s) { return s.size() == 64 && IsLowerHex(s); }

// Reads a bounded string; records an error through `f` when it is too long.
std::string Text(JsonValueFields& f, absl::string_view key, absl::Status& error) {
  std::optional<std::string> s = f.String(key, true);
  if (s && s->size() > kMaxText && error.ok()) {
    error = absl::InvalidArgumentError(absl::StrCat(f.where(), ".", key, " is too long"));
  }
  return s.value_or("");
}

Json SocketToJson(const ObservedSocket& s) {
  Json j{{"family", s.family},
         {"type", s.type},
         {"protocol", s.protocol},
         {"local_address", s.local_address},
         {"peer_address", s.peer_address}};
  if (s.peer_pid) j["peer_pid"] = *s.peer_pid;
  if (s.peer_uid) j["peer_uid"] = *s.peer_uid;
  if (s.peer_gid) j["peer_gid"] = *s.peer_gid;
  return j;
}

Json FdToJson(const ObservedFd& fd) {
  Json j{{"fd", fd.fd},     {"kind", fd.kind}, {"dev", fd.dev},
         {"ino", fd.ino},   {"rdev", fd.rdev}, {"mode", fd.mode},
         {"open_mode", fd.open_mode},          {"append", fd.append},
         {"mnt_id", fd.mnt_id}};
  if (fd.memfd_seals) j["memfd_seals"] = *fd.memfd_seals;
  if (fd.anon_type) j["anon_type"] = *fd.anon_type;
  if (fd.socket) j["socket"] = SocketToJson(*fd.socket);
  return j;
}

absl::StatusOr<ObservedFd> FdFromJson(const JsonValue& json, const std::string& where) {
  JsonValueFields f(json, where);
  absl::Status error;
  ObservedFd fd;
  fd.fd = static_cast<int>(f.Int("fd", true, 0, std::numeric_limits<int32_t>::max()).value_or(-1));
  fd.kind = Text(f, "kind", error);
  fd.dev = f.Uint("dev", true, UINT64_MAX).value_or(0);
  fd.ino = f.Uint("ino", true, UINT64_MAX).value_or(0);
  fd.rdev = f.Uint("rdev", true, UINT64_MAX).value_or(0);
  fd.mode = static_cast<uint32_t>(f.Uint("mode", true, UINT32_MAX).value_or(0));
  fd.open_mode = Text(f, "open_mode", error);
  fd.append = f.Bool("append", true).value_or(false);
  fd.mnt_id = f.Int("mnt_id", true, -1, INT64_MAX).value_or(-1);
  if (std::optional<uint64_t> seals = f.Uint("memfd_seals", false, UINT32_MAX)) {
    fd.memfd_seals = static_cast<uint32_t>(*seals);
  }
  if (f.Has("anon_type")) fd.anon_type = Text(f, "anon_type", error);
  if (const JsonValue* sock = f.Object("socket", false)) {
    JsonValueFields s(*sock, where + ".socket");
    ObservedSocket os;
    os.family = Text(s, "family", error);
    os.type = Text(s, "type", error);
    os.protocol = static_cast<int>(s.Int("protocol", true, 0, INT32_MAX).value_or(0));
    os.local_address = Text(s, "local_address", error);
    os.peer_address = Text(s, "peer_address", error);
    if (std::optional<int64_t> pid = s.Int("peer_pid", false, 0, INT32_MAX)) os.peer_pid = *pid;
    if (std::optional<uint64_t> uid = s.Uint("peer_uid", false, UINT32_MAX)) {
      os.peer_uid = static_cast<uint32_t>(*uid);
    }
    if (std::optional<uint64_t> gid = s.Uint("peer_gid", false, UINT32_MAX)) {
      os.peer_gid = static_cast<uint32_t>(*gid);
    }
    RETURN_IF_ERROR(s.Finish());
    fd.socket = std::move(os);
  }
  RETURN_IF_ERROR(f.Finish());
  RETURN_IF_ERROR(error);
  return fd;
}

// "<field>: <left_name> <left>, <right_name> <right>" as FailedPrecondition.
template <typename T, typename U>
absl::Status Differs(absl::string_view field, absl::string_view left_name, const T& left,
                     absl::string_view right_name, const U& right) {
  return absl::FailedPreconditionError(
      absl::StrCat(field, ": ", left_name, " ", left, ", ", right_name, " ", right));
}

std::string Opt(const std::optional<std::string>& s) { return s ? *s : "(none)"; }
template <typename T>
std::string Opt(const std::optional<T>& v) {
  return v ? absl::StrCat(*v) : "(none)";
}
std::string Bool(bool b) { return b ? "true" : "false"; }
std::string Quoted(absl::string_view s) { return absl::StrCat("\"", s, "\""); }

// Compares one fd, `a` (named `an`) against `b` (named `bn`), field by field.
absl::Status CompareFd(const ObservedFd& a, absl::string_view an, const ObservedFd& b,
                       absl::string_view bn, bool allow_secret_seals) {
  const std::string at = absl::StrCat("fds[fd ", a.fd, "].");
  auto field = [&](absl::string_view name) { return absl::StrCat(at, name); };
  if (a.kind != b.kind) return Differs(field("kind"), an, Quoted(a.kind), bn, Quoted(b.kind));
  if (a.dev != b.dev) return Differs(field("dev"), an, a.dev, bn, b.dev);
  if (a.ino != b.ino) return Differs(field("ino"), an, a.ino, bn, b.ino);
  if (a.rdev != b.rdev) return Differs(field("rdev"), an, a.rdev, bn, b.rdev);
  if (a.mode != b.mode) {
    return Differs(field("mode"), an, absl::StrCat("0", absl::Hex(a.mode)), bn,
                   absl::StrCat("0", absl::Hex(b.mode)));
  }
  if (a.open_mode != b.open_mode) {
    return Differs(field("open_mode"), an, Quoted(a.open_mode), bn, Quoted(b.open_mode));
  }
  if (a.append != b.append) return Differs(field("append"), an, Bool(a.append), bn, Bool(b.append));
  if (a.mnt_id != b.mnt_id) return Differs(field("mnt_id"), an, a.mnt_id, bn, b.mnt_id);
  if (a.memfd_seals != b.memfd_seals) {
    constexpr uint32_t kSealed = F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE;
    const bool sealed_since = allow_secret_seals && b.memfd_seals == kSealed;
    if (!sealed_since) {
      return Differs(field("memfd_seals"), an, Opt(a.memfd_seals), bn, Opt(b.memfd_seals));
    }
  }
  if (a.anon_type != b.anon_type) {
    return Differs(field("anon_type"), an, Opt(a.anon_type), bn, Opt(b.anon_type));
  }
  if (a.socket.has_value() != b.socket.has_value()) {
    return Differs(field("socket"), an, a.socket ? "a socket" : "(none)", bn,
                   b.socket ? "a socket" : "(none)");
  }
  if (a.socket) {
    const ObservedSocket& x = *a.socket;
    const ObservedSocket& y = *b.socket;
    if (x.family != y.family) return Differs(field("socket.family"), an, x.family, bn, y.family);
    if (x.type != y.type) return Differs(field("socket.type"), an, x.type, bn, y.type);
    if (x.protocol != y.protocol) {
      return Differs(field("socket.protocol"), an, x.protocol, bn, y.protocol);
    }
    if (x.local_address != y.local_address) {
      return Differs(field("socket.local_address"), an, Quoted(x.local_address), bn,
                     Quoted(y.local_address));
    }
    if (x.peer_address != y.peer_address) {
      return Differs(field("socket.peer_address"), an, Quoted(x.peer_address), bn,
                     Quoted(y.peer_address));
    }
    if (x.peer_pid != y.peer_pid) {
      return Differs(field("socket.peer_pid"), an, Opt(x.peer_pid), bn, Opt(y.peer_pid));
    }
    if (x.peer_uid != y.peer_uid) {
      return Differs(field("socket.peer_uid"), an, Opt(x.peer_uid), bn, Opt(y.peer_uid));
    }
    if (x.peer_gid != y.peer_gid) {
      return Differs(field("socket.peer_gid"), an, Opt(x.peer_gid), bn, Opt(y.peer_gid));
    }
  }
  return absl::OkStatus();
}

// The fd tables: the same numbers, and each fd equal.
absl::Status CompareFdTables(const std::vector<ObservedFd>& claimed, absl::string_view cn,
                             const std::vector<ObservedFd>& seen, absl::string_view sn,
                             const std::set<int>& secret_fds) {
  std::map<int, const ObservedFd*> by_number;
  for (const ObservedFd& fd : seen) by_number[fd.fd] = &fd;
  std::set<int> claimed_numbers;
  for (const ObservedFd& fd : claimed) claimed_numbers.insert(fd.fd);
  for (const ObservedFd& fd : seen) {
    if (!claimed_numbers.contains(fd.fd)) {
      return absl::FailedPreconditionError(
          absl::StrCat("fd ", fd.fd, ": open (", sn, ") but not ",
                       cn == "manifest" ? "declared" : "open at load"));
    }
  }
  for (const ObservedFd& fd : claimed) {
    auto it = by_number.find(fd.fd);
    if (it == by_number.end()) {
      return absl::FailedPreconditionError(
          absl::StrCat("fd ", fd.fd, ": ", cn == "manifest" ? "declared" : "open at load",
                       " but not open (", sn, ")"));
    }
    RETURN_IF_ERROR(CompareFd(fd, cn, *it->second, sn, secret_fds.contains(fd.fd)));
  }
  return absl::OkStatus();
}

absl::Status CompareFilters(const std::vector<std::string>& claimed, absl::string_view cn,
                            const std::vector<std::string>& seen, absl::string_view sn) {
  if (claimed.size() != seen.size()) {
    return Differs("filters", cn, absl::StrCat(claimed.size(), " installed"), sn,
                   absl::StrCat(seen.size(), " installed"));
  }
  for (size_t i = 0; i < claimed.size(); ++i) {
    if (claimed[i] != seen[i]) {
      return Differs(absl::StrCat("filters[", i, "].sha256"), cn, claimed[i], sn, seen[i]);
    }
  }
  return absl::OkStatus();
}

absl::Status CompareCaps(const KernelObservation& a, absl::string_view an,
                         const KernelObservation& b, absl::string_view bn) {
  for (const auto& [name, member] : kCaps) {
    if (a.*member != b.*member) {
      return Differs(absl::StrCat("caps.", name), an, CapHex(a.*member), bn, CapHex(b.*member));
    }
  }
  return absl::OkStatus();
}

}  // namespace

ObservedFd ObservedFdOf(const FdFingerprint& fp) {
  ObservedFd fd;
  fd.fd = fp.fd;
  fd.kind = fp.kind;
  fd.dev = fp.stat.dev;
  fd.ino = fp.stat.ino;
  fd.rdev = fp.stat.rdev;
  fd.mode = fp.stat.mode;
  fd.open_mode = fp.open_mode;
  fd.append = fp.append;
  fd.mnt_id = fp.mount ? fp.mount->mnt_id : -1;
  fd.memfd_seals = fp.memfd_seals;
  fd.anon_type = fp.anon_type;
  if (fp.socket) {
    ObservedSocket s;
    s.family = fp.socket->family;
    s.type = fp.socket->type;
    s.protocol = fp.socket->protocol;
    s.local_address = fp.socket->local_address;
    s.peer_address = fp.socket->peer_address;
    if (fp.socket->peer_cred) {
      s.peer_pid = fp.socket->peer_cred->pid;
      s.peer_uid = fp.socket->peer_cred->uid;
      s.peer_gid = fp.socket->peer_cred->gid;
    }
    fd.socket = std::move(s);
  }
  return fd;
}

Json KernelObservation::ToJson() const {
  Json caps = Json::object();
  for (const auto& [name, member] : kCaps) caps[name] = CapHex(this->*member);
  Json fd_list = Json::array();
  for (const ObservedFd& fd : fds) fd_list.push_back(FdToJson(fd));
  return Json{{"caps", std::move(caps)},
              {"exe_sha256", exe_sha256},
              {"fds", std::move(fd_list)},
              {"filters", filter_sha256},
              {"namespaces", namespaces},
              {"no_new_privs", no_new_privs},
              {"root",
               Json{{"entries", root.entries},
                    {"fs_type", root.fs_type},
                    {"mounts", root.mounts},
                    {"read_only", root.read_only}}},
              {"seccomp_mode", seccomp_mode}};
}

absl::StatusOr<KernelObservation> KernelObservation::FromJson(const JsonValue& json) {
  constexpr absl::string_view kWhere = "observation";
  JsonValueFields f(json, std::string(kWhere));
  absl::Status error;
  KernelObservation o;
  const JsonValue* caps = f.Object("caps", true);
  o.exe_sha256 = Text(f, "exe_sha256", error);
  const JsonValue* fds = f.Array("fds", true);
  const JsonValue* filters = f.Array("filters", true);
  const JsonValue* ns = f.Object("namespaces", true);
  o.no_new_privs = f.Bool("no_new_privs", true).value_or(false);
  const JsonValue* root = f.Object("root", true);
  o.seccomp_mode = static_cast<int>(f.Int("seccomp_mode", true, 0, 2).value_or(0));
  RETURN_IF_ERROR(f.Finish());
  RETURN_IF_ERROR(error);
  if (!IsDigestHex(o.exe_sha256)) {
    return absl::InvalidArgumentError("observation.exe_sha256 is not 64 lowercase hex digits");
  }

  JsonValueFields cf(*caps, "observation.caps");
  for (const auto& [name, member] : kCaps) {
    std::string hex = Text(cf, name, error);
    if (hex.size() != 16 || !IsLowerHex(hex)) {
      if (error.ok()) {
        error = absl::InvalidArgumentError(
            absl::StrCat("observation.caps.", name, " is not 16 lowercase hex digits"));
      }
      continue;
    }
    o.*member = std::stoull(hex, nullptr, 16);
  }
  RETURN_IF_ERROR(cf.Finish());
  RETURN_IF_ERROR(error);

  if (filters->size() > kMaxObservedFilters) {
    return absl::InvalidArgumentError("observation.filters is too long");
  }
  for (size_t i = 0; i < filters->size(); ++i) {
    const JsonValue& v = (*filters)[i];
    if (!v.is_string() || !IsDigestHex(v.str())) {
      return absl::InvalidArgumentError(
          absl::StrCat("observation.filters[", i, "] is not 64 lowercase hex digits"));
    }
    o.filter_sha256.emplace_back(v.str());
  }

  if (ns->size() > kMaxNamespaces) {
    return absl::InvalidArgumentError("observation.namespaces is too large");
  }
  for (size_t i = 0; i < ns->size(); ++i) {
    const JsonValue& v = (*ns)[i];
    if (!v.is_string() || v.str().size() > kMaxText) {
      return absl::InvalidArgumentError(
          absl::StrCat("observation.namespaces.", ns->key(i), " must be a string"));
    }
    o.namespaces[std::string(ns->key(i))] = std::string(v.str());
  }

  JsonValueFields rf(*root, "observation.root");
  o.root.entries = static_cast<uint32_t>(rf.Uint("entries", true, UINT32_MAX).value_or(0));
  o.root.fs_type = Text(rf, "fs_type", error);
  o.root.mounts = static_cast<uint32_t>(rf.Uint("mounts", true, UINT32_MAX).value_or(0));
  o.root.read_only = rf.Bool("read_only", true).value_or(false);
  RETURN_IF_ERROR(rf.Finish());
  RETURN_IF_ERROR(error);

  if (fds->size() > kMaxObservedFds) return absl::InvalidArgumentError("observation.fds is too long");
  for (size_t i = 0; i < fds->size(); ++i) {
    ASSIGN_OR_RETURN(ObservedFd fd, FdFromJson((*fds)[i], absl::StrCat("observation.fds[", i, "]")));
    if (!o.fds.empty() && fd.fd <= o.fds.back().fd) {
      return absl::InvalidArgumentError(
          absl::StrCat("observation.fds[", i, "]: fds must be in ascending order, each once"));
    }
    o.fds.push_back(std::move(fd));
  }
  return o;
}

absl::Status CheckObservationMatchesManifest(const KernelObservation& observed,
                                             const Manifest& manifest) {
  constexpr absl::string_view m = "manifest", k = "kernel";
  RETURN_IF_ERROR(
      CompareFilters({HexEncode(Sha256(manifest.filter.bpf))}, m, observed.filter_sha256, k));
  if (observed.seccomp_mode != 2) {
    return Differs("seccomp_mode", m, 2, k, observed.seccomp_mode);
  }
  if (!observed.no_new_privs) return Differs("no_new_privs", m, Bool(true), k, Bool(false));
  RETURN_IF_ERROR(CompareCaps(KernelObservation{}, m, observed, k));
  if (observed.exe_sha256 != manifest.exe_sha256) {
    return Differs("exe_sha256", m, manifest.exe_sha256, k, observed.exe_sha256);
  }
  // The empty root (launcher/empty_root.h): one read-only tmpfs, empty.
  if (observed.root.mounts != 1) return Differs("root.mounts", m, 1, k, observed.root.mounts);
  if (observed.root.fs_type != "tmpfs") {
    return Differs("root.fs_type", m, Quoted("tmpfs"), k, Quoted(observed.root.fs_type));
  }
  if (!observed.root.read_only) return Differs("root.read_only", m, Bool(true), k, Bool(false));
  if (observed.root.entries != 0) return Differs("root.entries", m, 0, k, observed.root.entries);
  for (const auto& [name, value] : manifest.namespaces) {
    auto it = observed.namespaces.find(name);
    const std::string seen = it == observed.namespaces.end() ? "(none)" : it->second;
    if (name == "mnt") {
      // The workload's mount namespace is the one made for its empty root.
      if (seen == value || seen == "(none)") {
        return absl::FailedPreconditionError(absl::StrCat(
            "namespaces.mnt: kernel ", seen, ", which is not a new mount namespace (manifest ",
            value, " is the launcher's)"));
      }
      continue;
    }
    if (seen != value) return Differs(absl::StrCat("namespaces.", name), m, value, k, seen);
  }
  for (const auto& [name, value] : observed.namespaces) {
    if (!manifest.namespaces.contains(name)) {
      return Differs(absl::StrCat("namespaces.", name), m, "(none)", k, value);
    }
  }
  std::vector<ObservedFd> claimed;
  for (const FdFingerprint& fp : manifest.fds) claimed.push_back(ObservedFdOf(fp));
  return CompareFdTables(claimed, m, observed.fds, k, {});
}

absl::Status CheckObservationUnchanged(const KernelObservation& now,
                                       const KernelObservation& at_load,
                                       const Manifest& manifest) {
  constexpr absl::string_view l = "load", n = "now";
  RETURN_IF_ERROR(CompareFilters(at_load.filter_sha256, l, now.filter_sha256, n));
  if (now.seccomp_mode != at_load.seccomp_mode) {
    return Differs("seccomp_mode", l, at_load.seccomp_mode, n, now.seccomp_mode);
  }
  if (now.no_new_privs != at_load.no_new_privs) {
    return Differs("no_new_privs", l, Bool(at_load.no_new_privs), n, Bool(now.no_new_privs));
  }
  RETURN_IF_ERROR(CompareCaps(at_load, l, now, n));
  if (now.exe_sha256 != at_load.exe_sha256) {
    return Differs("exe_sha256", l, at_load.exe_sha256, n, now.exe_sha256);
  }
  if (!(now.root == at_load.root)) {
    return Differs("root", l,
                   absl::StrCat(at_load.root.mounts, " mounts, ", at_load.root.entries, " entries"),
                   n, absl::StrCat(now.root.mounts, " mounts, ", now.root.entries, " entries"));
  }
  if (now.namespaces != at_load.namespaces) {
    for (const auto& [name, value] : at_load.namespaces) {
      auto it = now.namespaces.find(name);
      const std::string seen = it == now.namespaces.end() ? "(none)" : it->second;
      if (seen != value) return Differs(absl::StrCat("namespaces.", name), l, value, n, seen);
    }
    return absl::FailedPreconditionError("namespaces: the process is in a namespace it was not");
  }
  std::set<int> secret_fds;
  for (const FdFingerprint& fp : manifest.fds) {
    if (fp.secret) secret_fds.insert(fp.fd);
  }
  return CompareFdTables(at_load.fds, l, now.fds, n, secret_fds);
}

}  // namespace fdattest
