// libFuzzer target for the data-flow policy (verifier/policy.h): arbitrary
// bytes through Policy::Parse and EndpointRegistry::Parse must never crash,
// read out of bounds or leak. A policy that parses is evaluated against a
// fixed launch whose fds reach every rule's branches (files, unix, inet and
// inet6 sockets, a pipe, a netlink socket, /dev/null) under several sets of
// facts, and the results must keep the engine's invariants: 15 results R0..R14
// in order, a fail is always fatal, a pass never is, one-line reasons, every
// rule cites GDPR, trust-vector values from the AR4SI tables.
#include <sys/sysmacros.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "absl/strings/str_cat.h"
#include "common/sha256.h"
#include "verifier/policy.h"

namespace fdattest {
namespace {

constexpr char kBusybox[] = "3d9f2889d6782537624a4e1a10e68a2ddd53e0ee8bac02676f27308f42ec6bf6";
constexpr char kPatients[] = "94965720a30a352429d6304fabc9bd5a20dffd3d4577c00b597be9e5aa3e11cb";
constexpr char kRecordsProxy[] = "21b2068424f9fabff76ddbdacb7850ec4769078ae3baf2432b129c4208cc9a62";
constexpr char kAuditForwarder[] = "f2a57e74161950f44aa530fbf3963bf36a830dd2d4037ae8fe53258527e00bd7";

void Check(bool ok, const char* what) {
  if (!ok) {
    fprintf(stderr, "policy_fuzzer: invariant violated: %s\n", what);
    abort();
  }
}

FdFingerprint Fd(int fd, const std::string& role, const std::string& access,
                 const std::string& kind) {
  FdFingerprint fp;
  fp.fd = fd;
  fp.role = role;
  fp.access = access;
  fp.source = "open";
  fp.kind = kind;
  fp.stat = {.dev = 65024, .ino = 100u + static_cast<uint64_t>(fd), .nlink = 1};
  fp.open_mode = access == "a" ? "w" : access;
  fp.append = access == "a";
  return fp;
}

FdFingerprint Socket(int fd, const std::string& role, const std::string& access,
                     const std::string& family, const std::string& peer) {
  FdFingerprint fp = Fd(fd, role, access, "socket");
  fp.source = "connect";
  fp.open_mode = "rw";
  fp.socket = SocketFingerprint{.family = family, .type = "stream", .peer_address = peer};
  return fp;
}

Manifest SampleManifest() {
  Manifest m;
  m.launch_id = "690a3549f32fe860bf79d701ba63e5d8";
  m.exe_sha256 = kBusybox;
  m.profile_sha256 = kPatients;
  m.launcher_sha256 = kAuditForwarder;
  m.rlimits = {{"core", {1, 1}}};
  m.attested = true;
  m.filter.bpf = std::string("\x06\x00\x00\x00\x00\x00\xff\x7f", 8);

  FdFingerprint in = Fd(0, "phi-input", "r", "file");
  in.mount = MountFingerprint{.mnt_id = 27, .fs_type = "ext4", .read_only = true};
  in.content_sha256 = kPatients;
  in.memfd_seals = 0xf;
  FdFingerprint out = Fd(1, "phi-output", "w", "file");
  out.mount = MountFingerprint{.mnt_id = 28, .fs_type = "ext4"};
  out.storage = StorageFingerprint{
      .fs_magic = 0xef53,
      .encryption = "fscrypt",
      .fscrypt = FscryptPolicy{.version = 2, .contents_mode = 1, .filenames_mode = 4, .flags = 2,
                               .key = "0123456789abcdef0123456789abcdef"}};
  FdFingerprint audit = Fd(2, "audit-log", "a", "file");
  audit.mount = MountFingerprint{.mnt_id = 29, .fs_type = "tmpfs"};
  audit.storage = StorageFingerprint{.fs_magic = 0x01021994, .encryption = "unsupported"};
  FdFingerprint records = Socket(3, "records-in", "r", "unix", "/run/records.sock");
  records.socket->peer_cred = PeerCred{.pid = 7, .uid = 990, .gid = 990, .exe_sha256 = kRecordsProxy,
                                       .exe_path = "/usr/libexec/records-proxy"};
  FdFingerprint results = Socket(4, "results-out", "w", "inet", "10.20.4.7:443");
  results.socket->tcp_ulp = "tls";
  FdFingerprint results6 = Socket(5, "results-out", "w", "inet6", "[2001:db8:ee::10]:443");
  FdFingerprint forwarder = Socket(6, "audit-log", "w", "unix", "/run/audit.sock");
  forwarder.socket->peer_cred = PeerCred{.pid = 8, .uid = 991, .gid = 991,
                                         .exe_sha256 = kAuditForwarder,
                                         .exe_path = "/usr/bin/python3.11"};
  FdFingerprint null = Fd(7, "diagnostics", "w", "char");
  null.stat.rdev = makedev(1, 3);
  FdFingerprint pipe = Fd(8, "pipe-in", "r", "fifo");
  pipe.pipe_peer_pids = {42};
  FdFingerprint netlink = Socket(9, "control", "rw", "af:16", "not connected");
  netlink.socket->type = "dgram";
  FdFingerprint proc = Fd(10, "stats", "w", "file");
  proc.mount = MountFingerprint{.mnt_id = 3, .fs_type = "proc"};
  proc.storage = StorageFingerprint{.fs_magic = 0x9fa0, .encryption = "unsupported"};
  m.fds = {in, out, audit, records, results, results6, forwarder, null, pipe, netlink, proc};
  m.closed_fds = {Fd(11, "", "", "char")};
  return m;
}

EndpointRegistry SampleRegistry() {
  absl::StatusOr<EndpointRegistry> r = EndpointRegistry::Parse(
      R"({"version":1,"issuer":"https://registry.example.eu","endpoints":[
        {"cidr":"10.20.0.0/16","ports":[443],"region":"DE","name":"fra"},
        {"cidr":"2001:db8:ee::/48","ports":[443],"region":"US","name":"us"}]})");
  Check(r.ok(), "the sample registry parses");
  return *r;
}

void CheckResults(const Policy& policy, const PolicyFacts& facts) {
  std::vector<RuleResult> results = EvaluatePolicy(policy, facts);
  Check(results.size() == 15, "15 results");
  for (size_t i = 0; i < results.size(); ++i) {
    const RuleResult& r = results[i];
    Check(r.id == absl::StrCat("R", i), "results in order R0..R14");
    Check(!r.title.empty() && !r.reason.empty(), "a title and a reason");
    Check(r.reason.find('\n') == std::string::npos, "one-line reason");
    Check(!r.citation.gdpr.empty(), "every rule cites GDPR");
    Check(r.outcome != RuleOutcome::kFail || r.fatal, "a fail is fatal");
    Check(r.outcome != RuleOutcome::kPass || !r.fatal, "a pass is not fatal");
    Check(r.outcome != RuleOutcome::kNotEvaluable || r.fatal == policy.NotEvaluableIsFatal(r.id),
          "a not-evaluable is fatal iff the policy says so");
  }
  for (const auto& [claim, value] : TrustVectorFromRules(results)) {
    Check(value == 2 || value == 32 || value == 33 || value == 96, "AR4SI value");
    Check(!claim.empty(), "claim name");
  }
}

}  // namespace
}  // namespace fdattest

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace fdattest;
  static const Manifest manifest = SampleManifest();
  static const EndpointRegistry registry = SampleRegistry();
  const absl::string_view text(reinterpret_cast<const char*>(data), size);

  absl::StatusOr<EndpointRegistry> fuzzed_registry = EndpointRegistry::Parse(text);
  if (fuzzed_registry.ok()) {
    for (const FdFingerprint& fp : manifest.fds) {
      if (!fp.socket) continue;
      if (std::optional<IpEndpoint> peer = IpEndpoint::Parse(fp.socket->peer_address)) {
        for (const RegistryEndpoint* e : fuzzed_registry->Lookup(*peer)) {
          Check(e->region.size() == 2, "registry regions are alpha-2");
        }
      }
    }
  }

  absl::StatusOr<Policy> policy = Policy::Parse(text);
  if (!policy.ok()) return 0;
  Check(policy->text_sha256 == HexEncode(Sha256(text)), "text_sha256 is the digest of the bytes");

  PolicyFacts good;
  good.manifest = &manifest;
  good.filter_proven = true;
  std::vector<PropertyResult> properties;
  for (const char* id : {"foreign-arch-killed", "x32-killed", "default-refuses",
                         "no-deferred-actions", "never-allowed", "write-family-fds",
                         "append-only-kept", "zero-copy-fds", "process-confined"}) {
    properties.push_back({.id = id, .holds = true});
  }
  good.filter_properties = std::make_shared<const std::vector<PropertyResult>>(properties);
  good.filter_sha256 = HexEncode(Sha256(manifest.filter.bpf));
  good.nonce = PolicyFacts::Nonce::kFresh;
  good.clock_safe = true;
  good.counters_checked = true;
  good.ak_name_hex = "000b" + std::string(kPatients);
  good.registry = &registry;
  good.observed = true;
  good.launcher_sha256 = manifest.launcher_sha256;
  good.launch_fresh = true;
  CheckResults(*policy, good);

  // Observed alive on the nonce, but launched before it; and not observed.
  PolicyFacts alive = good;
  alive.launch_fresh = false;
  alive.alive_fresh = true;
  CheckResults(*policy, alive);
  PolicyFacts unobserved = good;
  unobserved.observed = false;
  unobserved.not_observed = "the kernel cannot be read";
  CheckResults(*policy, unobserved);
  Check(EvaluatePolicy(*policy, unobserved)[13].outcome == RuleOutcome::kFail,
        "R13 fails a launch the attestor did not observe");

  PolicyFacts offline = good;
  offline.nonce = PolicyFacts::Nonce::kNotChecked;
  offline.counters_checked = false;
  offline.registry = fuzzed_registry.ok() ? &*fuzzed_registry : nullptr;
  offline.ak_name_hex.clear();
  CheckResults(*policy, offline);

  PolicyFacts unproven = good;
  unproven.filter_proven = false;
  unproven.filter_error = "never-allowed refuted";
  properties[4].holds = false;
  unproven.filter_properties = std::make_shared<const std::vector<PropertyResult>>(properties);
  unproven.filter_sha256 = "00";
  CheckResults(*policy, unproven);

  CheckResults(*policy, PolicyFacts{});
  return 0;
}
