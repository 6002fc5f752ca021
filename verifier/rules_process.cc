// The checks on the launched process and its evidence, R0 and R8..R14
// (docs/policy.md "Rules"): a closed fd world, minimisation, peer
// authentication, identity, freshness, leak channels, integrity, retention.
#include <sys/sysmacros.h>

#include <algorithm>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/storage.h"
#include "common/sha256.h"
#include "verifier/internal/rule_checks.h"

namespace fdattest::policy_internal {
namespace {

// The filter properties (common/bpf_properties.cc) that keep the fd world
// closed (R0).
const std::vector<std::string>& ClosedWorldProperties() {
  static const std::vector<std::string> v = {"foreign-arch-killed", "x32-killed",
                                             "default-refuses",     "no-deferred-actions",
                                             "never-allowed",       "process-confined"};
  return v;
}

// Kernel interfaces reachable through a filesystem: a writable fd on one is a
// channel out of the declared data flow (R12).
const std::set<std::string>& KernelPseudoFs() {
  static const std::set<std::string> s = {"proc",       "sysfs",    "debugfs", "tracefs",
                                          "securityfs", "configfs", "bpf",     "cgroup",
                                          "cgroup2",    "efivarfs", "pstore"};
  return s;
}

}  // namespace

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
    // A released secret only where the policy declares a secret role, even
    // in an open world; and a secret role holds nothing else.
    const bool secret_role = role != nullptr && role->role_class == RoleClass::kSecret;
    if (fp.secret.has_value() && !secret_role) {
      f.Fail(absl::StrCat(label, ": secret \"", *fp.secret,
                          "\" is at an fd whose role the policy does not declare of class secret"));
      continue;
    }
    if (secret_role && !fp.secret.has_value()) {
      f.Fail(absl::StrCat(label, ": role ", role->name, " is of class secret, but the fd is not "
                          "a released secret's memfd (source \"secret\")"));
      continue;
    }
    if (fp.secret.has_value() && !(fp.storage && IsMemoryOnlyFs(fp.storage->fs_magic))) {
      f.Fail(absl::StrCat(label, ": secret \"", *fp.secret,
                          "\" is not in memory-only storage (a memfd is tmpfs)"));
    }
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

// R11: the evidence is fresh, in the sense the policy requires, and the
// TPM's clock and epoch continuous. A fresh nonce alone proves a fresh
// certification; what it proves about the launch depends on which of the
// attestor's observations it is bound to.
Findings RuleFreshness(const Policy& policy, const PolicyFacts& facts, std::string& pass) {
  Findings f;
  if (!facts.clock_safe) f.Fail("TPM clockInfo.safe is 0: the clock may have been rolled back");
  if (facts.nonce == PolicyFacts::Nonce::kNotChecked) {
    f.Unknown("no expected nonce: freshness not established");
  } else {
    const bool launch = facts.launch_fresh, alive = facts.alive_fresh;
    const std::string required =
        absl::StrCat(" (policy freshness \"", FreshnessName(policy.freshness), "\")");
    switch (policy.freshness) {
      case Freshness::kEither:
        if (!launch && !alive) {
          f.Fail(absl::StrCat("only the certification is fresh: the launch was measured before "
                              "this nonce and no alive observation is bound to it",
                              required));
        }
        break;
      case Freshness::kLaunch:
        if (!launch) {
          f.Fail(absl::StrCat("only the certification is fresh: the launch was measured before "
                              "this nonce",
                              alive ? "; an alive observation is bound to it, but" : "", required));
        }
        break;
      case Freshness::kAlive:
        if (!alive) {
          f.Fail(absl::StrCat("no alive observation of this launch is bound to this nonce",
                              launch ? ": the launch is fresh, but it was not re-observed" : "",
                              required));
        }
        break;
    }
  }
  // Continuity within the launch is established by the pipeline (the log's
  // epoch record carries the resetCount the TPM signed, or the chain is
  // broken). Counters against this attester's previous attestation guard
  // against replay, which a fresh nonce already excludes: on first contact
  // they become the baseline rather than a gap.
  pass = absl::StrCat(
      facts.launch_fresh ? "nonce fresh: launched after it (load observation bound to it)"
                         : "nonce fresh: observed alive and unchanged after it (alive observation "
                           "bound to it)",
      "; clock safe; launch and attestation in one TPM epoch (resetCount ", facts.reset_count,
      ", restartCount ", facts.restart_count, ")",
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
  const std::string filter_hex =
      m.filter.verified_sha256.empty() ? HexEncode(Sha256(m.filter.bpf)) : m.filter.verified_sha256;
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
  // The launcher is the peer the attestor hashed itself; the manifest's
  // launcher digest is the launcher's own claim and decides nothing.
  const std::string& launcher = facts.launcher_sha256;
  const std::string claim = m.launcher_sha256 != launcher && !launcher.empty()
                                ? absl::StrCat(" (the manifest claims ", m.launcher_sha256, ")")
                                : "";
  if (!facts.observed) {
    f.Fail(absl::StrCat("workload not observed by the attestor: ",
                        facts.not_observed.empty() ? "no load observation" : facts.not_observed));
  }
  if (launcher.empty()) {
    f.Fail("no launcher digest observed by the attestor");
  } else if (policy.launcher_sha256.empty()) {
    f.Unknown(absl::StrCat("policy lists no workload.launcher_sha256: launcher ", launcher,
                           " (observed) not checked", claim));
  } else if (!policy.launcher_sha256.contains(launcher)) {
    f.Fail(absl::StrCat("launcher ", launcher, " (observed) is not a reference launcher", claim));
  }
  pass = absl::StrCat("exe ", Short(m.exe_sha256), ", launcher ", launcher, " (observed)", claim,
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

}  // namespace fdattest::policy_internal
