#include "tests/support/policy_test_util.h"

#include <sys/sysmacros.h>

#include <filesystem>
#include <map>
#include <memory>

#include "absl/strings/str_cat.h"
#include "common/file_io.h"
#include "common/sha256.h"
#include "gmock/gmock.h"

namespace fdattest::testing {

using ::testing::HasSubstr;

std::string ExamplePath(const std::string& name) {
  // This file is tests/support/policy_test_util.cc: the root is three levels up.
  return (std::filesystem::path(__FILE__).parent_path().parent_path().parent_path() / "examples" /
          "policies" / name)
      .string();
}

Citation ExpectedCitation(const std::string& id) {
  static const std::map<std::string, Citation> kCitations = {
      {"R0", {"45 CFR 164.312(a)(1)", "Art. 25(1); Art. 32(1)(b)"}},
      {"R1", {"45 CFR 164.312(c)(1), (c)(2), (d)", "Art. 5(1)(d), (f)"}},
      {"R2", {"45 CFR 164.312(c)(1)", "Art. 5(1)(f)"}},
      {"R3", {"45 CFR 164.312(e)(1), (e)(2)(ii), (a)(2)(iv)", "Art. 32(1)(a)"}},
      {"R4", {"45 CFR 164.312(e)(1)", "Art. 5(1)(b); Art. 32"}},
      {"R5", {"", "Art. 44–46; Art. 49; Art. 30(1)(e)"}},
      {"R6", {"45 CFR 164.312(b), (c)(1)", "Art. 5(2); Art. 30"}},
      {"R7", {"45 CFR 164.312(a)(2)(iv)", "Art. 5(1)(e); Art. 32(1)(a)"}},
      {"R8", {"45 CFR 164.502(b)", "Art. 5(1)(b), (c); Art. 25(2)"}},
      {"R9", {"45 CFR 164.312(d)", "Art. 32(1)(b)"}},
      {"R10", {"45 CFR 164.312(a)(2)(i)", "Art. 5(2)"}},
      {"R11", {"45 CFR 164.312(c)(1)", "Art. 32(1)(d)"}},
      {"R12", {"45 CFR 164.312(a)(1)", "Art. 32(1)(b)"}},
      {"R13", {"45 CFR 164.312(c)(1)", "Art. 25(1)"}},
      {"R14", {"45 CFR 164.316(b)(2)(i)", "Art. 5(1)(e); Art. 17; EDPB 02/2025"}},
  };
  return kCitations.at(id);
}

FdFingerprint FileFd(int fd, const std::string& role, const std::string& access,
                     const std::string& fs_type, bool read_only_mount) {
  FdFingerprint fp;
  fp.fd = fd;
  fp.role = role;
  fp.access = access;
  fp.source = "open";
  fp.kind = "file";
  fp.stat = {.dev = 65024,
             .ino = 1000u + static_cast<uint64_t>(fd),
             .size = 100,
             .nlink = 1,
             .mode = 0100644};
  fp.open_mode = access == "a" ? "w" : access;
  fp.append = access == "a";
  fp.mount = MountFingerprint{.mnt_id = 27, .fs_type = fs_type, .read_only = read_only_mount};
  fp.storage = StorageOf(fs_type);
  return fp;
}

StorageFingerprint StorageOf(const std::string& fs_type) {
  static const std::map<std::string, uint64_t> kMagic = {
      {"ext4", 0xef53}, {"xfs", 0x58465342}, {"tmpfs", 0x01021994}, {"ramfs", 0x858458f6},
      {"proc", 0x9fa0}, {"overlay", 0x794c7630}};
  StorageFingerprint s;
  s.fs_magic = kMagic.at(fs_type);
  s.encryption = s.fs_magic == 0xef53 ? "none" : "unsupported";
  return s;
}

void SetFscrypt(FdFingerprint& fp, int version, uint32_t contents_mode, uint32_t filenames_mode) {
  fp.storage->encryption = "fscrypt";
  fp.storage->fscrypt = FscryptPolicy{
      .version = version,
      .contents_mode = contents_mode,
      .filenames_mode = filenames_mode,
      .flags = 2,
      .key = version == 1 ? "0123456789abcdef" : "0123456789abcdef0123456789abcdef"};
}

FdFingerprint UnixFd(int fd, const std::string& role, const std::string& access, uint32_t uid,
                     const std::string& exe) {
  FdFingerprint fp;
  fp.fd = fd;
  fp.role = role;
  fp.access = access;
  fp.source = "connect";
  fp.kind = "socket";
  fp.stat = {.dev = 8, .ino = 5000u + static_cast<uint64_t>(fd), .nlink = 1, .mode = 0140777};
  fp.open_mode = "rw";
  fp.socket = SocketFingerprint{
      .family = "unix",
      .type = "stream",
      .local_address = "unnamed",
      .peer_address = "/run/peer.sock",
      .peer_cred = PeerCred{.pid = 4242, .uid = uid, .gid = uid, .exe_sha256 = exe,
                            .exe_path = "/usr/libexec/peer-daemon"}};
  return fp;
}

FdFingerprint InetFd(int fd, const std::string& role, const std::string& access,
                     const std::string& peer, bool ktls) {
  FdFingerprint fp;
  fp.fd = fd;
  fp.role = role;
  fp.access = access;
  fp.source = "connect";
  fp.kind = "socket";
  fp.stat = {.dev = 8, .ino = 6000u + static_cast<uint64_t>(fd), .nlink = 1, .mode = 0140777};
  fp.open_mode = "rw";
  fp.socket = SocketFingerprint{.family = peer.front() == '[' ? "inet6" : "inet",
                                .type = "stream",
                                .protocol = 6,
                                .local_address = "10.0.0.5:41000",
                                .peer_address = peer};
  if (ktls) fp.socket->tcp_ulp = "tls";
  return fp;
}

FdFingerprint DevNullFd(int fd, const std::string& role, const std::string& access) {
  FdFingerprint fp;
  fp.fd = fd;
  fp.role = role;
  fp.access = access;
  fp.source = "null";
  fp.path = "/dev/null";
  fp.kind = "char";
  fp.stat = {.dev = 6, .ino = 3, .rdev = makedev(1, 3), .nlink = 1, .mode = 020666};
  fp.open_mode = access;
  fp.mount = MountFingerprint{.mnt_id = 24, .fs_type = "devtmpfs"};
  return fp;
}

Manifest BaseManifest(const std::string& exe) {
  Manifest m;
  m.launch_id = "690a3549f32fe860bf79d701ba63e5d8";
  m.time = "2026-11-30T04:03:07Z";
  m.profile_name = "phi-checksum";
  m.profile_sha256 = "a1418fc0efc68f2fbb6681eff946619e7b2c4d8834d2d924a950e2ecfe798478";
  m.exe_path = "/bin/busybox";
  m.exe_sha256 = exe;
  m.argv = {"/bin/busybox", "sha256sum"};
  m.env_names = {"HOME", "PATH"};
  m.rlimits = {{"core", {1, 1}}, {"nofile", {1024, 1024}}};
  m.no_new_privs = true;
  m.no_capabilities = true;
  m.attested = true;
  m.launcher_version = "0.1.0";
  m.launcher_sha256 = kLauncher;
  m.filter.bpf = std::string("\x06\x00\x00\x00\x00\x00\xff\x7f", 8);
  m.filter.on_violation = "errno";
  m.filter.exec_fd = 4;
  return m;
}

Manifest HipaaManifest() {
  Manifest m = BaseManifest(kBusybox);
  FdFingerprint in = FileFd(0, "phi-input", "r", "ext4", /*read_only_mount=*/true);
  in.content_sha256 = kPatients;
  in.path = "/data/phi/patients.csv";
  FdFingerprint out = FileFd(1, "phi-output", "w", "ext4", false);
  SetFscrypt(out, 2, 1, 4);  // AES-256-XTS / AES-256-CTS, as tools/fscrypt_dir.cc sets
  m.fds = {in, out, FileFd(2, "audit-log", "a", "ext4", false)};
  FdFingerprint closed = DevNullFd(10, "", "");
  closed.source = "inherited";
  closed.open_mode = "r";
  m.closed_fds = {closed};
  return m;
}

Manifest GdprManifest() {
  Manifest m = BaseManifest(kEuWorkload);
  m.fds = {UnixFd(0, "records-in", "r", 990, kRecordsProxy),
           InetFd(1, "results-out", "w", "10.20.4.7:443", /*ktls=*/true),
           UnixFd(2, "audit-log", "w", 991, kAuditForwarder), DevNullFd(3, "diagnostics", "w")};
  return m;
}

std::vector<PropertyResult> AllPropertiesHold() {
  std::vector<PropertyResult> out;
  for (const char* id :
       {"foreign-arch-killed", "x32-killed", "default-refuses", "no-deferred-actions",
        "never-allowed", "read-family-fds", "write-family-fds", "append-only-kept", "zero-copy-fds",
        "mmap-fds", "fd-control", "process-confined", "declared-fds-usable"}) {
    out.push_back({.id = id, .statement = "proven", .holds = true});
  }
  return out;
}

PolicyFacts GoodFacts(const Manifest& m) {
  PolicyFacts f;
  f.manifest = &m;
  f.filter_proven = true;
  f.filter_properties = std::make_shared<const std::vector<PropertyResult>>(AllPropertiesHold());
  f.filter_sha256 = HexEncode(Sha256(m.filter.bpf));
  f.nonce = PolicyFacts::Nonce::kFresh;
  f.clock_safe = true;
  f.counters_checked = true;
  f.reset_count = 3;
  f.restart_count = 0;
  f.ak_name_hex = kAkName;
  // The attestor observed the launch, matching the manifest, for the launcher
  // the manifest names, and on the nonce the verifier issued.
  f.observed = true;
  f.launcher_sha256 = m.launcher_sha256;
  f.launch_fresh = true;
  return f;
}

void Refute(PolicyFacts& facts, const std::string& id, const std::string& detail) {
  auto edited = std::make_shared<std::vector<PropertyResult>>(*facts.filter_properties);
  facts.filter_properties = edited;
  for (PropertyResult& p : *edited) {
    if (p.id == id) {
      p.holds = false;
      p.detail = detail;
    }
  }
  facts.filter_proven = false;
  facts.filter_error = absl::StrCat("property ", id, " refuted: ", detail);
}

Policy LoadExample(const std::string& name) {
  absl::StatusOr<Policy> p = Policy::Load(ExamplePath(name));
  EXPECT_TRUE(p.ok()) << name << ": " << p.status();
  return p.ok() ? *p : Policy{};
}

Json ExampleJson(const std::string& name) {
  absl::StatusOr<std::string> text = ReadFileLimited(ExamplePath(name), kMaxPolicyBytes);
  EXPECT_TRUE(text.ok()) << text.status();
  absl::StatusOr<Json> j = ParseJsonStrict(text.ok() ? *text : "{}");
  EXPECT_TRUE(j.ok()) << j.status();
  return j.ok() ? *j : Json::object();
}

absl::StatusOr<Policy> ParseJson(const Json& j) { return Policy::Parse(j.dump()); }

Policy MustParse(const Json& j) {
  absl::StatusOr<Policy> p = ParseJson(j);
  EXPECT_TRUE(p.ok()) << p.status();
  return p.ok() ? *p : Policy{};
}

EndpointRegistry EuRegistry() {
  absl::StatusOr<std::string> text =
      ReadFileLimited(ExamplePath("eu-endpoint-registry.json"), kMaxRegistryBytes);
  EXPECT_TRUE(text.ok());
  absl::StatusOr<EndpointRegistry> r = EndpointRegistry::Parse(text.ok() ? *text : "");
  EXPECT_TRUE(r.ok()) << r.status();
  return r.ok() ? *r : EndpointRegistry{};
}

const RuleResult& Find(const std::vector<RuleResult>& results, const std::string& id) {
  for (const RuleResult& r : results) {
    if (r.id == id) return r;
  }
  static const RuleResult kMissing{.id = "missing"};
  ADD_FAILURE() << "no result for " << id;
  return kMissing;
}

void ExpectRule(const std::vector<RuleResult>& results, const std::string& id, RuleOutcome outcome,
                const std::vector<std::string>& reason_mentions) {
  const RuleResult& r = Find(results, id);
  EXPECT_EQ(RuleOutcomeName(r.outcome), RuleOutcomeName(outcome)) << id << ": " << r.reason;
  for (const std::string& s : reason_mentions) {
    EXPECT_THAT(r.reason, HasSubstr(s)) << id;
  }
  const Citation want = ExpectedCitation(id);
  EXPECT_EQ(r.citation.hipaa, want.hipaa) << id;
  EXPECT_EQ(r.citation.gdpr, want.gdpr) << id;
  EXPECT_EQ(r.reason.find('\n'), std::string::npos) << id << ": reason is not one line";
  if (outcome == RuleOutcome::kFail) {
    EXPECT_TRUE(r.fatal) << id;
  }
  if (outcome == RuleOutcome::kPass) {
    EXPECT_FALSE(r.fatal) << id;
  }
}

}  // namespace fdattest::testing
