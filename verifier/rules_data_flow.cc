// The data-flow checks R1..R7 (docs/policy.md "Rules"): where protected data
// may come from (vetted, read-only inputs) and go to (encrypted outputs, the
// egress allow-list, allowed regions, an append-only audit trail, approved
// stores).
#include <fcntl.h>

#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "verifier/endpoint_registry.h"
#include "verifier/internal/rule_checks.h"
#include "verifier/ip_prefix.h"

namespace fdattest::policy_internal {

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
// local proxy, a file under an fscrypt policy the role accepts) or, for a
// role that accepts it, a file that is never persisted (tmpfs, ramfs).
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
      // Encryption is R3's question: of the role's storage, only what keeps
      // the bytes from resting in clear counts here (durable is R7's).
      std::set<StorageClass> accepted = AcceptedStorage(role);
      accepted.erase(StorageClass::kDurable);
      const EncryptionRequirement req = role != nullptr ? role->encryption : EncryptionRequirement{};
      StorageJudgement j = JudgeStorage(fp, accepted, req);
      if (j.ok) {
        f.Ok(absl::StrCat(label, ": ", j.seen));
      } else {
        f.Fail(absl::StrCat(label, ": writable file, ", j.seen, " (role ",
                            role != nullptr ? role->name : std::string("undefined"), " ",
                            j.why_not, ")"));
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

// R7: writable regular files only where their role's storage allows
// (encrypted at rest, not persisted, durable), judged from the storage
// fingerprint, never from a filesystem's name.
Findings RuleAtRest(const Policy& policy, const PolicyFacts& facts, std::string& pass) {
  Findings f;
  pass = "no writable file";
  for (const FdFingerprint& fp : facts.manifest->fds) {
    if (!WorkloadCanWrite(fp, facts)) continue;
    const std::string label = FdLabel(fp);
    if (fp.kind == "block") {
      f.Fail(absl::StrCat(label, ": writable block device"));
    } else if (fp.kind == "file") {
      const RolePolicy* role = policy.FindRole(fp.role);
      StorageJudgement j = JudgeStorage(
          fp, AcceptedStorage(role), role != nullptr ? role->encryption : EncryptionRequirement{});
      if (j.ok) {
        f.Ok(absl::StrCat(label, ": ", j.seen, " (", j.met, ")"));
      } else {
        f.Fail(absl::StrCat(label, ": writable file, ", j.seen, " (role ",
                            role != nullptr ? role->name : std::string("undefined"), " ",
                            j.why_not, ")"));
      }
    }
  }
  return f;
}

}  // namespace fdattest::policy_internal
