#include "verifier/internal/rule_checks.h"

#include <sys/sysmacros.h>

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
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
  }
  return "";
}

std::string PeerSummary(const FdFingerprint& fp) {
  const PeerCred& pc = *fp.socket->peer_cred;
  return absl::StrCat(FdLabel(fp), ": unix peer uid ", pc.uid,
                      pc.exe_sha256 ? absl::StrCat(", exe ", Short(*pc.exe_sha256)) : "");
}

}  // namespace fdattest::policy_internal
