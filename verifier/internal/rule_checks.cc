#include "verifier/internal/rule_checks.h"

#include <sys/sysmacros.h>

#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/storage.h"
#include "verifier/internal/policy_json.h"

namespace fdattest::policy_internal {
namespace {

const PropertyResult* FindProperty(const PolicyFacts& facts, absl::string_view id) {
  if (facts.filter_properties == nullptr) return nullptr;
  for (const PropertyResult& p : *facts.filter_properties) {
    if (p.id == id) return &p;
  }
  return nullptr;
}

}  // namespace

std::string Findings::Reason(absl::string_view nothing_in_scope) const {
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

RoleClass ClassOf(const Policy& policy, const FdFingerprint& fp) {
  const RolePolicy* r = policy.FindRole(fp.role);
  return r == nullptr ? RoleClass::kPhiOutput : r->role_class;
}

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
    // A listed interpreter's digest says which interpreter runs, not which
    // script: it cannot identify the peer (docs/policy.md, R9).
    if (!pc.exe_path.has_value()) {
      return absl::StrCat(FdLabel(fp), ": peer pid ", pc.pid,
                          " executable path not recorded: cannot tell a program from an "
                          "interpreter, so its digest identifies no peer");
    }
    if (PeerIsInterpreter(pc)) {
      return absl::StrCat(FdLabel(fp), ": peer executable ", *pc.exe_path,
                          " is an interpreter: its sha256 identifies no script, so it does not "
                          "identify the peer");
    }
  }
  return "";
}

bool PeerIsInterpreter(const PeerCred& pc) {
  if (!pc.exe_path.has_value()) return false;
  absl::string_view name(*pc.exe_path);
  if (size_t slash = name.rfind('/'); slash != absl::string_view::npos) {
    name.remove_prefix(slash + 1);
  }
  // "python3.11", "perl5.36.0", "ruby3.1", "node18": strip the version.
  while (!name.empty() && (absl::ascii_isdigit(static_cast<unsigned char>(name.back())) ||
                           name.back() == '.' || name.back() == '-')) {
    name.remove_suffix(1);
  }
  static const std::set<std::string, std::less<>> kInterpreters = {
      "python", "pypy", "perl", "sh",  "bash",   "dash", "ash", "zsh",  "ksh",     "mksh",
      "csh",    "tcsh", "fish", "busybox", "ruby", "node", "nodejs", "deno", "bun", "php",
      "lua",    "luajit", "tclsh", "wish", "java", "Rscript", "R", "awk", "gawk", "mawk",
      "nawk",   "guile", "racket", "julia", "osascript", "pwsh", "env"};
  return kInterpreters.contains(name);
}

StorageJudgement JudgeStorage(const FdFingerprint& fp, const std::set<StorageClass>& accepted,
                              const EncryptionRequirement& req) {
  StorageJudgement j;
  std::vector<std::string> names;
  for (StorageClass c : accepted) names.push_back(std::string(StorageClassName(c)));
  const std::string accepts =
      names.empty() ? std::string("accepts no storage") : absl::StrCat("accepts ", absl::StrJoin(names, ", "));
  if (!fp.storage.has_value()) {
    j.seen = "no storage fingerprint recorded";
    j.why_not = accepts;
    return j;
  }
  const StorageFingerprint& s = *fp.storage;
  j.seen = DescribeStorage(s, fp.mount ? absl::string_view(fp.mount->fs_type) : "");
  std::vector<std::string> missing;
  if (IsMemoryOnlyFs(s.fs_magic)) {
    if (accepted.contains(StorageClass::kNotPersisted)) {
      j.ok = true;
      j.met = "not_persisted";
      return j;
    }
    j.why_not = accepts;
    return j;
  }
  if (accepted.contains(StorageClass::kEncryptedAtRest) && s.fscrypt.has_value()) {
    const FscryptPolicy& p = *s.fscrypt;
    if (p.version < req.min_version) {
      missing.push_back(absl::StrCat("fscrypt v", req.min_version, " or later"));
    }
    if (!req.contents_modes.empty() && !req.contents_modes.contains(p.contents_mode)) {
      std::vector<std::string> modes;
      for (uint32_t m : req.contents_modes) modes.push_back(FscryptModeName(m));
      missing.push_back(absl::StrCat("contents mode ", absl::StrJoin(modes, " or ")));
    }
    if (!req.filenames_modes.empty() && !req.filenames_modes.contains(p.filenames_mode)) {
      std::vector<std::string> modes;
      for (uint32_t m : req.filenames_modes) modes.push_back(FscryptModeName(m));
      missing.push_back(absl::StrCat("filenames mode ", absl::StrJoin(modes, " or ")));
    }
    if (missing.empty()) {
      j.ok = true;
      j.met = "encrypted_at_rest";
      return j;
    }
  }
  if (accepted.contains(StorageClass::kDurable)) {
    if (PersistenceOfFs(s.fs_magic) == Persistence::kPersisted) {
      j.ok = true;
      j.met = "durable";
      return j;
    }
    missing.push_back("a filesystem known to persist for durable");
  }
  j.why_not = missing.empty() ? accepts
                              : absl::StrCat(accepts, "; needs ", absl::StrJoin(missing, ", "));
  return j;
}

std::string PeerSummary(const FdFingerprint& fp) {
  const PeerCred& pc = *fp.socket->peer_cred;
  return absl::StrCat(FdLabel(fp), ": unix peer uid ", pc.uid,
                      pc.exe_sha256 ? absl::StrCat(", exe ", Short(*pc.exe_sha256)) : "");
}

}  // namespace fdattest::policy_internal
