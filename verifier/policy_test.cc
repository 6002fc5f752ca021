// The data-flow policy: strict parsing (unknown keys, types, bounds, hex),
// and for every rule R0..R14 a passing and a failing launch, with the
// reason naming the fd/field and the clause the rule cites.
#include "verifier/policy.h"

#include <sys/sysmacros.h>

#include <filesystem>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/file_io.h"
#include "common/sha256.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace fdattest {
namespace {

using ::testing::HasSubstr;

// Digests in examples/policies/*.json.
constexpr char kBusybox[] = "3d9f2889d6782537624a4e1a10e68a2ddd53e0ee8bac02676f27308f42ec6bf6";
constexpr char kLauncher[] = "7c499078c4a41d7104224bb7842023a981959e21e5f00a52dd5eb899fefa04fb";
constexpr char kPatients[] = "94965720a30a352429d6304fabc9bd5a20dffd3d4577c00b597be9e5aa3e11cb";
constexpr char kEuWorkload[] = "4820d367bd82faac70db88e1e28f26f122bcfb06083468587205e58aeda0a0c3";
constexpr char kRecordsProxy[] = "21b2068424f9fabff76ddbdacb7850ec4769078ae3baf2432b129c4208cc9a62";
constexpr char kAuditForwarder[] =
    "f2a57e74161950f44aa530fbf3963bf36a830dd2d4037ae8fe53258527e00bd7";
constexpr char kOther[] = "0000000000000000000000000000000000000000000000000000000000000001";
constexpr char kAkName[] = "000b5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8";

std::string ExamplePath(const std::string& name) {
  return (std::filesystem::path(__FILE__).parent_path().parent_path() / "examples" / "policies" /
          name)
      .string();
}

// The citations the catalogue (reference/formats.md §3.4) gives, written out
// independently of the implementation's table.
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

// --- fixtures ----------------------------------------------------------------

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
  return fp;
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
      .peer_cred = PeerCred{.pid = 4242, .uid = uid, .gid = uid, .exe_sha256 = exe}};
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

// A launch shaped like examples/profiles/phi-checksum.json's (examples/demo.sh):
// fd 0 the vetted extract from a read-only bind mount, fd 1 the result on an
// encrypted volume, fd 2 the append-only audit log.
Manifest HipaaManifest() {
  Manifest m = BaseManifest(kBusybox);
  FdFingerprint in = FileFd(0, "phi-input", "r", "ext4", /*read_only_mount=*/true);
  in.content_sha256 = kPatients;
  in.path = "/data/phi/patients.csv";
  m.fds = {in, FileFd(1, "phi-output", "w", "ecryptfs", false),
           FileFd(2, "audit-log", "a", "ecryptfs", false)};
  FdFingerprint closed = DevNullFd(10, "", "");
  closed.source = "inherited";
  closed.open_mode = "r";
  m.closed_fds = {closed};
  return m;
}

// The GDPR processor's launch: records from the local proxy, results over
// kTLS to an EEA endpoint, audit to the forwarder, diagnostics to /dev/null.
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

// Everything the pipeline establishes online with a fresh nonce.
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

// Outcome, the reason naming what it must, and the rule's clause.
void ExpectRule(const std::vector<RuleResult>& results, const std::string& id, RuleOutcome outcome,
                const std::vector<std::string>& reason_mentions = {}) {
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

class HipaaRules : public ::testing::Test {
 protected:
  std::vector<RuleResult> Run() { return EvaluatePolicy(policy_, facts_); }
  void Reset() { facts_ = GoodFacts(manifest_); }

  Policy policy_ = LoadExample("hipaa-phi-etl.json");
  Manifest manifest_ = HipaaManifest();
  PolicyFacts facts_ = GoodFacts(manifest_);
};

class GdprRules : public ::testing::Test {
 protected:
  std::vector<RuleResult> Run() { return EvaluatePolicy(policy_, facts_); }

  Policy policy_ = LoadExample("gdpr-eu-processor.json");
  EndpointRegistry registry_ = EuRegistry();
  Manifest manifest_ = GdprManifest();
  PolicyFacts facts_ = [this] {
    PolicyFacts f = GoodFacts(manifest_);
    f.registry = &registry_;
    return f;
  }();
};

// --- parsing -------------------------------------------------------------------

TEST(PolicyParse, BothExamplePoliciesParse) {
  Policy hipaa = LoadExample("hipaa-phi-etl.json");
  EXPECT_EQ(hipaa.id, "https://policies.example.org/fdattest/hipaa-phi-etl/v1");
  ASSERT_EQ(hipaa.fd_roles.size(), 3u);
  EXPECT_EQ(hipaa.fd_roles[0].role_class, RoleClass::kPhiInput);
  EXPECT_TRUE(hipaa.closed_world);
  EXPECT_EQ(hipaa.retention_days, 2190);
  EXPECT_EQ(hipaa.secrets, std::vector<std::string>{"phi-etl-key"});

  Policy gdpr = LoadExample("gdpr-eu-processor.json");
  ASSERT_TRUE(gdpr.registry.has_value());
  EXPECT_EQ(gdpr.registry->signer_jwk.at("kty"), "EC");
  EXPECT_TRUE(gdpr.registry->allowed_regions.contains("DE"));
  EXPECT_TRUE(gdpr.registry->allowed_regions.contains("NO"));  // EEA, not EU
  EXPECT_FALSE(gdpr.registry->allowed_regions.contains("CH"));
  EXPECT_EQ(gdpr.registry->allowed_regions.size(), 30u);  // EU 27 + IS, LI, NO
  EXPECT_FALSE(gdpr.registry->allowed_regions.contains("US"));
  EXPECT_TRUE(gdpr.NotEvaluableIsFatal("R5"));
  EXPECT_FALSE(gdpr.NotEvaluableIsFatal("R9"));
}

TEST(PolicyParse, TextSha256IsTheDigestOfTheExactBytes) {
  absl::StatusOr<std::string> text =
      ReadFileLimited(ExamplePath("hipaa-phi-etl.json"), kMaxPolicyBytes);
  ASSERT_TRUE(text.ok());
  absl::StatusOr<Policy> p = Policy::Parse(*text);
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->text_sha256, HexEncode(Sha256(*text)));
  absl::StatusOr<Policy> spaced = Policy::Parse(*text + "\n");
  ASSERT_TRUE(spaced.ok());
  EXPECT_NE(spaced->text_sha256, p->text_sha256);
}

void ExpectRefused(const Json& j, const std::string& message_part) {
  absl::StatusOr<Policy> p = ParseJson(j);
  ASSERT_FALSE(p.ok()) << "accepted: " << j.dump();
  EXPECT_EQ(p.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(p.status().message()), HasSubstr(message_part));
}

TEST(PolicyParse, RefusesUnknownKeysNamingThePath) {
  Json j = ExampleJson("gdpr-eu-processor.json");
  Json top = j;
  top["foo"] = 1;
  ExpectRefused(top, "policy: unknown key \"foo\"");
  Json role = j;
  role["fd_roles"][1]["foo"] = true;
  ExpectRefused(role, "policy.fd_roles[1]: unknown key \"foo\"");
  Json egress = j;
  egress["fd_roles"][1]["egress"][0]["foo"] = 1;
  ExpectRefused(egress, "policy.fd_roles[1].egress[0]: unknown key \"foo\"");
  Json peer = j;
  peer["fd_roles"][0]["peer"]["gids"] = Json::array({1});
  ExpectRefused(peer, "policy.fd_roles[0].peer: unknown key \"gids\"");
  Json workload = j;
  workload["workload"]["libs_sha256"] = Json::array();
  ExpectRefused(workload, "policy.workload: unknown key \"libs_sha256\"");
  Json registry = j;
  registry["registry"]["url"] = "https://x";
  ExpectRefused(registry, "policy.registry: unknown key \"url\"");
  Json rule = j;
  rule["not_evaluable_overrides"]["R15"] = "fail";
  ExpectRefused(rule, "unknown key \"R15\"");
}

TEST(PolicyParse, RefusesWrongTypes) {
  const Json j = ExampleJson("hipaa-phi-etl.json");
  Json v = j;
  v["version"] = "1";
  ExpectRefused(v, "\"version\" must be an integer");
  Json v2 = j;
  v2["version"] = 2;
  ExpectRefused(v2, "\"version\" must be between 1 and 1");
  Json cw = j;
  cw["closed_world"] = "yes";
  ExpectRefused(cw, "\"closed_world\" must be true or false");
  Json kinds = j;
  kinds["fd_roles"][0]["kinds"] = "file";
  ExpectRefused(kinds, "policy.fd_roles[0]: \"kinds\" must be an array");
  Json kind = j;
  kind["fd_roles"][0]["kinds"] = Json::array({"regular"});
  ExpectRefused(kind, "policy.fd_roles[0].kinds[0]: must be one of file");
  Json access = j;
  access["fd_roles"][1]["access"] = Json::array({1});
  ExpectRefused(access, "policy.fd_roles[1].access[0]: must be a string");
  Json ne = j;
  ne["not_evaluable"] = "ignore";
  ExpectRefused(ne, "policy.not_evaluable: must be \"warn\" or \"fail\"");
  Json retention = j;
  retention["retention_days"] = 0;
  ExpectRefused(retention, "\"retention_days\" must be between 1");
  Json missing = j;
  missing.erase("workload");
  ExpectRefused(missing, "missing required key \"workload\"");
  const Json g = ExampleJson("gdpr-eu-processor.json");
  Json port = g;
  port["fd_roles"][1]["egress"][0]["ports"] = Json::array({0});
  ExpectRefused(port, "policy.fd_roles[1].egress[0].ports[0]: must be a port number");
  Json cidr = g;
  cidr["fd_roles"][1]["egress"][0]["cidr"] = "10.20.0.1/16";
  ExpectRefused(cidr, "has host bits set");
  Json region = g;
  region["registry"]["allowed_regions"] = Json::array({"Germany"});
  ExpectRefused(region, "policy.registry.allowed_regions[0]: must be an ISO 3166-1 alpha-2");
  Json uid = g;
  uid["fd_roles"][0]["peer"]["uids"] = Json::array({-1});
  ExpectRefused(uid, "policy.fd_roles[0].peer.uids[0]");
}

TEST(PolicyParse, RefusesDuplicateRolesAndEntries) {
  Json j = ExampleJson("hipaa-phi-etl.json");
  Json dup = j;
  dup["fd_roles"].push_back(j["fd_roles"][1]);
  ExpectRefused(dup, "policy.fd_roles[3]: role \"phi-output\" is defined twice");
  Json digest = j;
  digest["workload"]["exe_sha256"].push_back(kBusybox);
  ExpectRefused(digest,
                "policy.workload.exe_sha256[1]: \"" + std::string(kBusybox) + "\" is listed twice");
  // The JSON adapter refuses duplicate keys: the last one must not win.
  absl::StatusOr<Policy> p = Policy::Parse(R"({"version":1,"version":1})");
  ASSERT_FALSE(p.ok());
  EXPECT_THAT(std::string(p.status().message()), HasSubstr("duplicate JSON key"));
}

TEST(PolicyParse, RefusesOversizedListsAndDocuments) {
  const Json j = ExampleJson("hipaa-phi-etl.json");
  Json roles = j;
  roles["max_fds"] = 32;
  for (int i = 0; i < 31; ++i) {
    Json r = j["fd_roles"][1];
    r["role"] = absl::StrCat("out-", i);
    r["min"] = 0;
    roles["fd_roles"].push_back(r);
  }
  ExpectRefused(roles, "policy.fd_roles: at most 32 roles");
  Json digests = j;
  for (int i = 0; i < 1024; ++i) {
    std::string d = HexEncode(Sha256(absl::StrCat(i)));
    digests["fd_roles"][0]["content_sha256"].push_back(d);
  }
  ExpectRefused(digests, "policy.fd_roles[0].content_sha256: at most 1024 entries");
  Json secrets = j;
  for (int i = 0; i < 16; ++i) secrets["secrets"].push_back(absl::StrCat("key-", i));
  ExpectRefused(secrets, "policy.secrets: at most 16 entries");
  Json egress = ExampleJson("gdpr-eu-processor.json");
  for (int i = 0; i < 64; ++i) {
    egress["fd_roles"][1]["egress"].push_back(
        {{"cidr", absl::StrCat("10.", i, ".0.0/16")}, {"ports", {443}}});
  }
  ExpectRefused(egress, "policy.fd_roles[1].egress: at most 64 entries");
  Json big = j;
  big["description"] = std::string(300 * 1024, 'x');
  ExpectRefused(big, "the limit is 262144");
}

TEST(PolicyParse, RefusesDigestsThatAreNot64LowercaseHex) {
  const Json j = ExampleJson("hipaa-phi-etl.json");
  std::string upper = kBusybox;
  upper[0] = 'D';
  for (const std::string& bad :
       {upper, std::string(kBusybox).substr(1), std::string(kBusybox) + "0", std::string(64, 'g'),
        std::string("")}) {
    Json e = j;
    e["workload"]["exe_sha256"] = Json::array({bad});
    ExpectRefused(e, "policy.workload.exe_sha256[0]: must be a sha256 digest");
  }
  Json content = j;
  content["fd_roles"][0]["content_sha256"] = Json::array({"xyz"});
  ExpectRefused(content, "policy.fd_roles[0].content_sha256[0]: must be a sha256 digest");
  Json empty = j;
  empty["workload"]["exe_sha256"] = Json::array();
  ExpectRefused(empty, "policy.workload.exe_sha256: must not be empty");
}

TEST(PolicyParse, RefusesContradictoryPolicies) {
  const Json j = ExampleJson("hipaa-phi-etl.json");
  Json writable_input = j;
  writable_input["fd_roles"][0]["access"] = Json::array({"r", "w"});
  ExpectRefused(writable_input, "a phi_input role allows only");
  Json min_max = j;
  min_max["fd_roles"][1]["min"] = 2;
  ExpectRefused(min_max, "\"min\" 2 exceeds \"max\" 1");
  Json encrypted = j;
  encrypted["encrypted_fs_types"] = Json::array({"ext4"});
  ExpectRefused(encrypted,
                "policy.encrypted_fs_types[0]: \"ext4\" is not in approved_write_fs_types");
  Json regions = j;
  regions["fd_roles"][1]["regions"] = Json::array({"DE"});
  ExpectRefused(regions, "policy.fd_roles[1].regions: needs \"registry\"");
  Json max_fds = j;
  max_fds["max_fds"] = 2;
  ExpectRefused(max_fds, "policy.max_fds: 2 is below the roles' minimum total 3");
  Json private_jwk = ExampleJson("gdpr-eu-processor.json");
  private_jwk["registry"]["signer_jwk"]["d"] = "secret";
  ExpectRefused(private_jwk, "policy.registry.signer_jwk: holds private key member \"d\"");
  Json audit_read = j;
  audit_read["fd_roles"][2]["access"] = Json::array({"rw"});
  ExpectRefused(audit_read, "an audit role allows only");
}

TEST(EndpointRegistryParse, ParsesTheExampleAndLooksUpByPrefixAndPort) {
  EndpointRegistry r = EuRegistry();
  ASSERT_EQ(r.endpoints.size(), 3u);
  std::optional<IpEndpoint> fra = IpEndpoint::Parse("10.20.4.7:443");
  ASSERT_TRUE(fra.has_value());
  ASSERT_EQ(r.Lookup(*fra).size(), 1u);
  EXPECT_EQ(r.Lookup(*fra)[0]->region, "DE");
  std::optional<IpEndpoint> other_port = IpEndpoint::Parse("10.20.4.7:80");
  EXPECT_TRUE(r.Lookup(*other_port).empty());
  std::optional<IpEndpoint> dub = IpEndpoint::Parse("[2001:db8:ee::10]:443");
  ASSERT_TRUE(dub.has_value());
  ASSERT_EQ(r.Lookup(*dub).size(), 1u);
  EXPECT_EQ(r.Lookup(*dub)[0]->region, "IE");
}

TEST(EndpointRegistryParse, RefusesGroupsUnknownKeysAndBadPrefixes) {
  auto refused = [](const std::string& text, const std::string& part) {
    absl::StatusOr<EndpointRegistry> r = EndpointRegistry::Parse(text);
    ASSERT_FALSE(r.ok()) << text;
    EXPECT_THAT(std::string(r.status().message()), HasSubstr(part));
  };
  refused(
      R"({"version":1,"issuer":"i","endpoints":[{"cidr":"10.0.0.0/8","ports":[443],"region":"EU"}]})",
      "registry.endpoints[0].region");
  refused(
      R"({"version":1,"issuer":"i","endpoints":[{"cidr":"10.0.0.0/8","ports":[443],"region":"DE","x":1}]})",
      "registry.endpoints[0]: unknown key \"x\"");
  refused(
      R"({"version":1,"issuer":"i","endpoints":[{"cidr":"10.0.0.1/8","ports":[443],"region":"DE"}]})",
      "host bits");
  refused(
      R"({"version":1,"issuer":"i","endpoints":[{"cidr":"10.0.0.0/8","ports":[],"region":"DE"}]})",
      "registry.endpoints[0].ports: must not be empty");
  refused(R"({"version":2,"issuer":"i","endpoints":[]})", "\"version\"");
  // Shaped like a country code, but not one (Greece is GR; XX is unassigned).
  for (const char* code : {"EL", "XX", "UK"}) {
    refused(
        absl::StrCat(
            R"({"version":1,"issuer":"i","endpoints":[{"cidr":"10.0.0.0/8","ports":[443],"region":")",
            code, R"("}]})"),
        "alpha-2 country code");
  }
}

TEST(IpEndpoint, NormalisesV4MappedV6AndRejectsJunk) {
  std::optional<IpEndpoint> mapped = IpEndpoint::Parse("[::ffff:10.20.1.2]:443");
  ASSERT_TRUE(mapped.has_value());
  EXPECT_FALSE(mapped->v6);
  absl::StatusOr<IpPrefix> p = IpPrefix::Parse("10.20.0.0/16");
  ASSERT_TRUE(p.ok());
  EXPECT_TRUE(p->Contains(*mapped));
  EXPECT_FALSE(p->Contains(*IpEndpoint::Parse("10.21.0.1:443")));
  absl::StatusOr<IpPrefix> mapped_prefix = IpPrefix::Parse("::ffff:10.20.0.0/112");
  ASSERT_TRUE(mapped_prefix.ok());
  EXPECT_TRUE(mapped_prefix->Contains(*IpEndpoint::Parse("10.20.9.9:443")));
  EXPECT_TRUE(mapped_prefix->Contains(*mapped));
  for (const char* junk : {"not connected", "unnamed", "10.0.0.1", "10.0.0.1:99999", "[::1]",
                           "::1:443", "10.0.0.1:-1", "[10.0.0.1]:443"}) {
    EXPECT_FALSE(IpEndpoint::Parse(junk).has_value()) << junk;
  }
}

// --- the examples on their launches -------------------------------------------

TEST_F(HipaaRules, ExamplePassesEveryRuleOnThePhiChecksumLaunch) {
  std::vector<RuleResult> results = Run();
  ASSERT_EQ(results.size(), 15u);
  for (size_t i = 0; i < results.size(); ++i) {
    EXPECT_EQ(results[i].id, absl::StrCat("R", i));
    EXPECT_EQ(results[i].outcome, RuleOutcome::kPass) << results[i].id << ": " << results[i].reason;
    EXPECT_FALSE(results[i].fatal);
    const Citation want = ExpectedCitation(results[i].id);
    EXPECT_EQ(results[i].citation.hipaa, want.hipaa);
    EXPECT_EQ(results[i].citation.gdpr, want.gdpr);
    EXPECT_FALSE(results[i].title.empty());
  }
}

// examples/demo.sh runs everything in a temporary directory on a read-write
// ext4 mount: the example policy refuses that, naming the fds and fields.
TEST_F(HipaaRules, DemoScratchDirectoryLaunchFailsOnMountsNotOnIdentity) {
  for (FdFingerprint& fp : manifest_.fds) fp.mount = MountFingerprint{27, "ext4", false};
  std::vector<RuleResult> results = Run();
  ExpectRule(results, "R2", RuleOutcome::kFail,
             {"fd 0 (phi-input)", "read-write", "read_only_mount"});
  ExpectRule(results, "R3", RuleOutcome::kFail,
             {"fd 1 (phi-output)", "ext4", "encrypted_fs_types"});
  ExpectRule(results, "R7", RuleOutcome::kFail, {"fd 1 (phi-output)", "fd 2 (audit-log)"});
  ExpectRule(results, "R1", RuleOutcome::kPass);
  ExpectRule(results, "R10", RuleOutcome::kPass);
}

TEST_F(GdprRules, ExamplePassesWithTheRegistryAndLeavesInetPeerAuthOpen) {
  std::vector<RuleResult> results = Run();
  ASSERT_EQ(results.size(), 15u);
  for (const RuleResult& r : results) {
    if (r.id == "R9") continue;
    EXPECT_EQ(r.outcome, RuleOutcome::kPass) << r.id << ": " << r.reason;
  }
  ExpectRule(results, "R9", RuleOutcome::kNotEvaluable,
             {"fd 1 (results-out)", "not fingerprinted"});
  EXPECT_FALSE(Find(results, "R9").fatal);
  ExpectRule(results, "R5", RuleOutcome::kPass, {"fd 1 (results-out)", "DE"});
}

// --- R0 closed world -----------------------------------------------------------

TEST_F(HipaaRules, R0PassesOnAProvenFilterWithNoNewPrivs) {
  ExpectRule(Run(), "R0", RuleOutcome::kPass, {"filter proven", "no_new_privs", "no capabilities"});
}

TEST_F(HipaaRules, R0FailsWhenTheFilterIsNotProven) {
  Refute(facts_, "never-allowed", "openat allowed");
  ExpectRule(Run(), "R0", RuleOutcome::kFail,
             {"filter not proven", "never-allowed", "openat allowed"});
}

TEST_F(HipaaRules, R0FailsWhenAClosedWorldPropertyIsMissingOrNoNewPrivsIsOff) {
  auto fewer = std::make_shared<std::vector<PropertyResult>>(*facts_.filter_properties);
  fewer->erase(fewer->begin());  // foreign-arch-killed
  facts_.filter_properties = fewer;
  ExpectRule(Run(), "R0", RuleOutcome::kFail, {"foreign-arch-killed"});
  Reset();
  manifest_.no_new_privs = false;
  ExpectRule(Run(), "R0", RuleOutcome::kFail, {"manifest.no_new_privs"});
}

TEST_F(HipaaRules, R0FailsWhenTheWorkloadKeptItsCapabilities) {
  manifest_.no_capabilities = false;
  ExpectRule(Run(), "R0", RuleOutcome::kFail, {"manifest.no_capabilities"});
}

// --- R1 vetted input -----------------------------------------------------------

TEST_F(HipaaRules, R1PassesOnAVettedContentDigest) {
  ExpectRule(Run(), "R1", RuleOutcome::kPass, {"fd 0 (phi-input)", "vetted"});
}

TEST_F(HipaaRules, R1FailsOnAnUnvettedOrMissingDigest) {
  manifest_.fds[0].content_sha256 = kOther;
  ExpectRule(Run(), "R1", RuleOutcome::kFail, {"fd 0 (phi-input)", "content_sha256", kOther});
  manifest_.fds[0].content_sha256.reset();
  ExpectRule(Run(), "R1", RuleOutcome::kFail,
             {"fd 0 (phi-input)", "no content_sha256", "\"hash\""});
}

TEST_F(GdprRules, R1PassesOnAnAttestedUnixPeerAndFailsOnAnotherExecutable) {
  ExpectRule(Run(), "R1", RuleOutcome::kPass, {"fd 0 (records-in)", "attested"});
  manifest_.fds[0].socket->peer_cred->exe_sha256 = kOther;
  ExpectRule(Run(), "R1", RuleOutcome::kFail, {"fd 0 (records-in)", "peer.exe_sha256"});
}

// --- R2 read-only input ----------------------------------------------------------

TEST_F(HipaaRules, R2PassesOnAReadOnlyMount) {
  ExpectRule(Run(), "R2", RuleOutcome::kPass, {"fd 0 (phi-input)", "read-only ext4 mount"});
}

TEST_F(HipaaRules, R2FailsOnAReadWriteMountOrAWritableDescription) {
  manifest_.fds[0].mount->read_only = false;
  ExpectRule(Run(), "R2", RuleOutcome::kFail,
             {"fd 0 (phi-input)", "ext4 is read-write", "not sealed"});
  manifest_.fds[0].mount->read_only = true;
  manifest_.fds[0].open_mode = "rw";
  ExpectRule(Run(), "R2", RuleOutcome::kFail, {"fd 0 (phi-input)", "open_mode \"rw\""});
}

TEST_F(HipaaRules, R2AcceptsASealedMemfdAndOptInLaunchDigest) {
  manifest_.fds[0].mount = MountFingerprint{.mnt_id = 5, .fs_type = "tmpfs", .read_only = false};
  manifest_.fds[0].memfd_seals = 0xf;  // seal, shrink, grow, write
  ExpectRule(Run(), "R2", RuleOutcome::kPass, {"fd 0 (phi-input)", "sealed memfd"});
  manifest_.fds[0].memfd_seals = 0x7;  // no F_SEAL_WRITE
  ExpectRule(Run(), "R2", RuleOutcome::kFail, {"fd 0 (phi-input)", "seals 0x7"});
  Json j = ExampleJson("hipaa-phi-etl.json");
  j["fd_roles"][0]["immutability"] = Json::array({"launch_digest"});
  policy_ = MustParse(j);
  ExpectRule(Run(), "R2", RuleOutcome::kPass, {"vetted content digest at launch"});
}

// --- R3 encrypted output -----------------------------------------------------------

TEST_F(HipaaRules, R3PassesOnAnEncryptedStore) {
  ExpectRule(Run(), "R3", RuleOutcome::kPass, {"fd 1 (phi-output)", "encrypted store ecryptfs"});
}

TEST_F(HipaaRules, R3FailsOnAnUnencryptedFilesystem) {
  manifest_.fds[1].mount->fs_type = "tmpfs";
  ExpectRule(Run(), "R3", RuleOutcome::kFail, {"fd 1 (phi-output)", "tmpfs", "encrypted_fs_types"});
}

TEST_F(GdprRules, R3PassesOnKernelTlsAndFailsWithoutIt) {
  ExpectRule(Run(), "R3", RuleOutcome::kPass, {"fd 1 (results-out)", "kernel TLS"});
  manifest_.fds[1].socket->tcp_ulp.reset();
  ExpectRule(Run(), "R3", RuleOutcome::kFail, {"fd 1 (results-out)", "requires kTLS"});
}

TEST_F(GdprRules, R3FailsOnAPlainTcpOutputEvenWithoutARoleRequirement) {
  Json j = ExampleJson("gdpr-eu-processor.json");
  j["fd_roles"][1].erase("require_ktls");
  policy_ = MustParse(j);
  manifest_.fds[1].socket->tcp_ulp.reset();
  ExpectRule(Run(), "R3", RuleOutcome::kFail,
             {"fd 1 (results-out)", "without kernel TLS", "user-space TLS cannot be proven"});
}

// --- R4 egress -----------------------------------------------------------------------

TEST_F(GdprRules, R4PassesWithinTheAllowList) {
  ExpectRule(Run(), "R4", RuleOutcome::kPass, {"fd 1 (results-out)", "10.20.0.0/16"});
}

TEST_F(GdprRules, R4FailsOutsideTheAllowListAndOnNetlinkOrListeningSockets) {
  manifest_.fds[1].socket->peer_address = "203.0.113.9:443";
  ExpectRule(Run(), "R4", RuleOutcome::kFail, {"fd 1 (results-out)", "203.0.113.9:443", "egress"});
  manifest_.fds[1].socket->peer_address = "10.20.4.7:8443";
  ExpectRule(Run(), "R4", RuleOutcome::kFail, {"fd 1 (results-out)", "10.20.4.7:8443"});
  manifest_.fds[1].socket->peer_address = "not connected";
  ExpectRule(Run(), "R4", RuleOutcome::kFail, {"fd 1 (results-out)", "not connected"});
  manifest_.fds[1].socket->family = "af:16";
  ExpectRule(Run(), "R4", RuleOutcome::kFail, {"fd 1 (results-out)", "af:16"});
}

// --- R5 region -----------------------------------------------------------------------

TEST_F(GdprRules, R5FailsForAnEndpointTheRegistryPlacesOutsideTheEea) {
  Json j = ExampleJson("gdpr-eu-processor.json");
  j["fd_roles"][1]["egress"].push_back({{"cidr", "10.30.0.0/16"}, {"ports", {443}}});
  policy_ = MustParse(j);
  manifest_.fds[1].socket->peer_address = "10.30.1.1:443";
  std::vector<RuleResult> results = Run();
  ExpectRule(results, "R4", RuleOutcome::kPass);
  ExpectRule(results, "R5", RuleOutcome::kFail,
             {"fd 1 (results-out)", "analytics-us-east", "region US"});
  manifest_.fds[1].socket->peer_address = "10.40.1.1:443";
  j["fd_roles"][1]["egress"].push_back({{"cidr", "10.40.0.0/16"}, {"ports", {443}}});
  policy_ = MustParse(j);
  ExpectRule(Run(), "R5", RuleOutcome::kFail,
             {"fd 1 (results-out)", "not in the endpoint registry"});
}

TEST_F(GdprRules, R5IsNotEvaluableWithoutAVerifiedRegistryAndFatalByOverride) {
  facts_.registry = nullptr;
  std::vector<RuleResult> results = Run();
  ExpectRule(results, "R5", RuleOutcome::kNotEvaluable, {"no verified endpoint registry"});
  EXPECT_TRUE(Find(results, "R5").fatal);
}

TEST_F(GdprRules, R5FailsOnARegistryFromAnotherIssuer) {
  registry_.issuer = "https://registry.example.com";
  ExpectRule(Run(), "R5", RuleOutcome::kFail, {"registry issuer", "registry.example.com"});
}

TEST_F(HipaaRules, R5PassesWithoutNetworkPeers) {
  ExpectRule(Run(), "R5", RuleOutcome::kPass, {"no network peer"});
}

// --- R6 audit --------------------------------------------------------------------------

TEST_F(HipaaRules, R6PassesOnAnAppendOnlyLogKeptByTheFilter) {
  ExpectRule(Run(), "R6", RuleOutcome::kPass, {"fd 2 (audit-log)", "O_APPEND"});
}

TEST_F(HipaaRules, R6FailsWithoutOAppendOrWithoutTheProvenAppendProperty) {
  manifest_.fds[2].append = false;
  ExpectRule(Run(), "R6", RuleOutcome::kFail, {"fd 2 (audit-log)", "O_APPEND not set"});
  manifest_.fds[2].append = true;
  Refute(facts_, "append-only-kept", "lseek allowed on fd 2");
  ExpectRule(Run(), "R6", RuleOutcome::kFail, {"fd 2 (audit-log)", "append-only-kept"});
}

TEST_F(GdprRules, R6PassesOnAnAttestedForwarderAndFailsOnAnotherPeer) {
  ExpectRule(Run(), "R6", RuleOutcome::kPass, {"fd 2 (audit-log)", "attested audit forwarder"});
  manifest_.fds[2].socket->peer_cred->uid = 0;
  ExpectRule(Run(), "R6", RuleOutcome::kFail, {"fd 2 (audit-log)", "peer uid 0"});
}

TEST_F(HipaaRules, R6IsNotEvaluableWhenThePolicyHasNoAuditRole) {
  Json j = ExampleJson("hipaa-phi-etl.json");
  j["fd_roles"][2]["class"] = "control";
  policy_ = MustParse(j);
  ExpectRule(Run(), "R6", RuleOutcome::kNotEvaluable, {"no audit role"});
}

// --- R7 at rest -----------------------------------------------------------------------

TEST_F(HipaaRules, R7PassesOnApprovedStores) {
  ExpectRule(Run(), "R7", RuleOutcome::kPass,
             {"fd 1 (phi-output)", "fd 2 (audit-log)", "ecryptfs"});
}

TEST_F(HipaaRules, R7FailsForAWritableFileOutsideApprovedStores) {
  manifest_.fds[2].mount->fs_type = "xfs";
  ExpectRule(Run(), "R7", RuleOutcome::kFail,
             {"fd 2 (audit-log)", "xfs", "approved_write_fs_types: ecryptfs, tmpfs"});
}

// --- R8 minimisation ------------------------------------------------------------------

TEST_F(HipaaRules, R8PassesOnExactlyTheDeclaredSet) {
  ExpectRule(Run(), "R8", RuleOutcome::kPass,
             {"3 fds", "closed world", "1 inherited fd(s) closed"});
}

TEST_F(HipaaRules, R8FailsOnAnUndeclaredRoleInAClosedWorld) {
  manifest_.fds.push_back(DevNullFd(3, "spare", "w"));
  std::vector<RuleResult> results = Run();
  ExpectRule(results, "R8", RuleOutcome::kFail,
             {"fd 3 (spare)", "not in the policy", "max_fds is 3"});
  Json j = ExampleJson("hipaa-phi-etl.json");
  j["closed_world"] = false;
  j["max_fds"] = 4;
  policy_ = MustParse(j);
  ExpectRule(Run(), "R8", RuleOutcome::kPass, {"not governed", "fd 3 (spare)"});
}

TEST_F(HipaaRules, R8FailsOnKindAccessModeAndCountMismatches) {
  manifest_.fds[1].kind = "fifo";
  ExpectRule(Run(), "R8", RuleOutcome::kFail, {"fd 1 (phi-output)", "kind fifo"});
  manifest_ = HipaaManifest();
  Reset();
  manifest_.fds[1].open_mode = "rw";
  ExpectRule(Run(), "R8", RuleOutcome::kFail, {"fd 1 (phi-output)", "open_mode \"rw\""});
  manifest_ = HipaaManifest();
  Reset();
  manifest_.fds.pop_back();
  ExpectRule(Run(), "R8", RuleOutcome::kFail, {"role audit-log: 0 fds"});
}

TEST_F(GdprRules, R8FailsOnADeviceOtherThanDevNull) {
  manifest_.fds[3].stat.rdev = makedev(5, 0);  // /dev/tty
  ExpectRule(Run(), "R8", RuleOutcome::kFail, {"fd 3 (diagnostics)", "device 5:0"});
}

// --- R9 peer authentication -------------------------------------------------------------

TEST_F(GdprRules, R9PassesOnUnixPeersOnlyWhenNoInetSocket) {
  manifest_.fds.erase(manifest_.fds.begin() + 1);
  ExpectRule(Run(), "R9", RuleOutcome::kPass, {"fd 0 (records-in)", "SO_PEERCRED"});
}

TEST_F(GdprRules, R9FailsOnAPeerWithTheWrongUid) {
  manifest_.fds[0].socket->peer_cred->uid = 1000;
  ExpectRule(Run(), "R9", RuleOutcome::kFail, {"fd 0 (records-in)", "peer uid 1000"});
  manifest_.fds[0].socket->peer_cred.reset();
  ExpectRule(Run(), "R9", RuleOutcome::kFail, {"fd 0 (records-in)", "no SO_PEERCRED"});
}

// --- R10 identity ---------------------------------------------------------------------

TEST_F(HipaaRules, R10PassesOnAnAllowedExecutableAndAttester) {
  ExpectRule(Run(), "R10", RuleOutcome::kPass, {"exe sha256 3d9f2889", "launch 690a3549"});
}

TEST_F(HipaaRules, R10FailsOnAnotherExecutableOrAttester) {
  manifest_.exe_sha256 = kOther;
  ExpectRule(Run(), "R10", RuleOutcome::kFail, {"manifest.exe.sha256", kOther});
  manifest_.exe_sha256 = kBusybox;
  Json j = ExampleJson("hipaa-phi-etl.json");
  j["workload"]["ak_names"] = Json::array({std::string("000b") + std::string(64, 'a')});
  policy_ = MustParse(j);
  ExpectRule(Run(), "R10", RuleOutcome::kFail, {"attester AK", "workload.ak_names"});
}

TEST_F(HipaaRules, R10WithoutAnAttesterIsNotEvaluableAndFatalByTheExample) {
  facts_.ak_name_hex.clear();
  std::vector<RuleResult> results = Run();
  ExpectRule(results, "R10", RuleOutcome::kNotEvaluable, {"no attester identity"});
  EXPECT_TRUE(Find(results, "R10").fatal);
}

// --- R11 freshness --------------------------------------------------------------------

TEST_F(HipaaRules, R11PassesOnAFreshNonceSafeClockAndCheckedCounters) {
  ExpectRule(Run(), "R11", RuleOutcome::kPass, {"nonce fresh", "resetCount 3"});
}

TEST_F(HipaaRules, R11FailsOnAnUnsafeClock) {
  facts_.clock_safe = false;
  ExpectRule(Run(), "R11", RuleOutcome::kFail, {"clockInfo.safe"});
}

TEST_F(HipaaRules, R11IsNotEvaluableOfflineWithoutANonce) {
  facts_.nonce = PolicyFacts::Nonce::kNotChecked;
  std::vector<RuleResult> results = Run();
  ExpectRule(results, "R11", RuleOutcome::kNotEvaluable,
             {"no expected nonce: freshness not established"});
  EXPECT_FALSE(Find(results, "R11").fatal);  // the example says "warn"
}

TEST_F(HipaaRules, R11PassesOnFirstContactWithAFreshNonce) {
  facts_.counters_checked = false;
  ExpectRule(Run(), "R11", RuleOutcome::kPass,
             {"nonce fresh", "first attestation seen from this attester", "resetCount 3"});
}

// --- R12 leak channels ----------------------------------------------------------------

TEST_F(HipaaRules, R12PassesWithCoreLimitOneAndProvenPtraceRefusal) {
  ExpectRule(Run(), "R12", RuleOutcome::kPass,
             {"rlimits.core 1/1", "dumpable/TracerPid", "tracing by another process",
              "/proc/PID/cmdline", "hides the per-process files from other uids only"});
}

TEST_F(HipaaRules, R12FailsOnCoreDumpsPtraceOrAWritableProcFd) {
  manifest_.rlimits["core"] = {0, 18446744073709551615ull};
  ExpectRule(Run(), "R12", RuleOutcome::kFail,
             {"manifest.rlimits.core", "hard 18446744073709551615"});
  manifest_.rlimits["core"] = {1, 1};
  Refute(facts_, "never-allowed", "ptrace allowed");
  ExpectRule(Run(), "R12", RuleOutcome::kFail, {"ptrace"});
  Reset();
  manifest_.fds[1].mount->fs_type = "proc";
  ExpectRule(Run(), "R12", RuleOutcome::kFail, {"fd 1 (phi-output)", "writable fd on proc"});
}

// --- R13 integrity --------------------------------------------------------------------

TEST_F(HipaaRules, R13PassesOnReferenceValues) {
  ExpectRule(Run(), "R13", RuleOutcome::kPass, {"launcher 7c499078", "filter judged by proof"});
}

TEST_F(HipaaRules, R13FailsOnAnotherLauncherOrAFilterDigestMismatch) {
  manifest_.launcher_sha256 = kOther;
  ExpectRule(Run(), "R13", RuleOutcome::kFail, {"manifest.launcher.sha256", kOther});
  manifest_.launcher_sha256 = kLauncher;
  facts_.filter_sha256 = kOther;
  ExpectRule(Run(), "R13", RuleOutcome::kFail, {"not the digest of the manifest's filter"});
  Reset();
  Json j = ExampleJson("hipaa-phi-etl.json");
  j["workload"]["filter_sha256"] = Json::array({kOther});
  policy_ = MustParse(j);
  ExpectRule(Run(), "R13", RuleOutcome::kFail, {"workload.filter_sha256"});
}

TEST_F(HipaaRules, R13IsNotEvaluableWithoutALauncherReference) {
  Json j = ExampleJson("hipaa-phi-etl.json");
  j["workload"].erase("launcher_sha256");
  policy_ = MustParse(j);
  ExpectRule(Run(), "R13", RuleOutcome::kNotEvaluable, {"workload.launcher_sha256"});
}

// --- R14 retention --------------------------------------------------------------------

TEST_F(HipaaRules, R14PassesOnSixYearRetention) {
  ExpectRule(Run(), "R14", RuleOutcome::kPass, {"2190 days"});
}

TEST_F(HipaaRules, R14FailsOnShorterRetentionAndIsNotEvaluableWithoutOne) {
  Json j = ExampleJson("hipaa-phi-etl.json");
  j["retention_days"] = 365;
  policy_ = MustParse(j);
  ExpectRule(Run(), "R14", RuleOutcome::kFail, {"policy.retention_days 365"});
  j.erase("retention_days");
  policy_ = MustParse(j);
  ExpectRule(Run(), "R14", RuleOutcome::kNotEvaluable, {"retention_days"});
}

// --- not evaluable, fatality, missing facts -----------------------------------------

TEST_F(HipaaRules, NotEvaluableFailMakesEveryNotEvaluableFatal) {
  facts_.nonce = PolicyFacts::Nonce::kNotChecked;
  Json j = ExampleJson("hipaa-phi-etl.json");
  j["not_evaluable"] = "fail";
  j["not_evaluable_overrides"] = Json::object();
  policy_ = MustParse(j);
  std::vector<RuleResult> results = Run();
  EXPECT_EQ(Find(results, "R11").outcome, RuleOutcome::kNotEvaluable);
  EXPECT_TRUE(Find(results, "R11").fatal);
  // A per-rule override wins over the default.
  j["not_evaluable_overrides"]["R11"] = "warn";
  policy_ = MustParse(j);
  EXPECT_FALSE(Find(Run(), "R11").fatal);
}

TEST(EvaluatePolicy, WithoutAManifestEveryManifestRuleIsNotEvaluable) {
  Policy policy = LoadExample("hipaa-phi-etl.json");
  PolicyFacts facts;
  std::vector<RuleResult> results = EvaluatePolicy(policy, facts);
  ASSERT_EQ(results.size(), 15u);
  for (const RuleResult& r : results) {
    if (r.id == "R14") continue;  // judged on the policy alone
    EXPECT_NE(r.outcome, RuleOutcome::kPass) << r.id << ": " << r.reason;
  }
  ExpectRule(results, "R0", RuleOutcome::kFail, {"filter not proven"});
  ExpectRule(results, "R1", RuleOutcome::kNotEvaluable, {"no verified manifest"});
  ExpectRule(results, "R14", RuleOutcome::kPass);
  EXPECT_TRUE(Find(results, "R10").fatal);  // the example's override
}

TEST(RuleOutcomeName, NamesEveryOutcome) {
  EXPECT_EQ(RuleOutcomeName(RuleOutcome::kPass), "pass");
  EXPECT_EQ(RuleOutcomeName(RuleOutcome::kFail), "fail");
  EXPECT_EQ(RuleOutcomeName(RuleOutcome::kNotEvaluable), "not_evaluable");
}

// --- trust vector ---------------------------------------------------------------------

TEST_F(HipaaRules, TrustVectorIsAffirmingWhenEveryRulePasses) {
  std::map<std::string, int> tv = TrustVectorFromRules(Run());
  EXPECT_EQ(tv, (std::map<std::string, int>{{"instance-identity", 2},
                                            {"configuration", 2},
                                            {"executables", 2},
                                            {"file-system", 2},
                                            {"sourced-data", 2}}));
}

TEST_F(HipaaRules, TrustVectorContraindicatesFailuresAndWarnsOnNotEvaluable) {
  manifest_.fds[1].mount->fs_type = "ext4";  // R3 and R7 fail
  manifest_.launcher_sha256 = kOther;        // R13 fails
  facts_.nonce = PolicyFacts::Nonce::kNotChecked;
  std::map<std::string, int> tv = TrustVectorFromRules(Run());
  EXPECT_EQ(tv["storage-opaque"], 96);
  EXPECT_EQ(tv["file-system"], 96);
  EXPECT_EQ(tv["executables"], 96);
  EXPECT_EQ(tv["configuration"], 2);
  EXPECT_EQ(tv["instance-identity"], 2);
}

TEST_F(GdprRules, TrustVectorWarnsOnANonFatalNotEvaluableRegion) {
  Json j = ExampleJson("gdpr-eu-processor.json");
  j["not_evaluable_overrides"].erase("R5");
  policy_ = MustParse(j);
  facts_.registry = nullptr;
  std::map<std::string, int> tv = TrustVectorFromRules(Run());
  EXPECT_EQ(tv["sourced-data"], 32);
  j["not_evaluable_overrides"]["R5"] = "fail";
  policy_ = MustParse(j);
  EXPECT_EQ(TrustVectorFromRules(Run())["sourced-data"], 96);
}

}  // namespace
}  // namespace fdattest
