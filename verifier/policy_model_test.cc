// The policy parser: strict (unknown keys, types, bounds, hex), refusing
// contradictory policies, and the policy's digest over its exact bytes.
#include "verifier/policy_model.h"

#include <filesystem>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/file_io.h"
#include "common/sha256.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/policy_test_util.h"

namespace fdattest {
namespace {

using testing::ExampleJson;
using testing::ExamplePath;
using ::testing::HasSubstr;
using testing::kBusybox;
using testing::LoadExample;
using testing::ParseJson;
using testing::MustParse;

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

TEST(PolicyParse, FreshnessIsEitherByDefaultAndParsedStrictly) {
  Json j = ExampleJson("hipaa-phi-etl.json");
  j.erase("freshness");
  EXPECT_EQ(MustParse(j).freshness, Freshness::kEither);
  j["freshness"] = "either";
  EXPECT_EQ(MustParse(j).freshness, Freshness::kEither);
  j["freshness"] = "launch";
  EXPECT_EQ(MustParse(j).freshness, Freshness::kLaunch);
  j["freshness"] = "alive";
  EXPECT_EQ(MustParse(j).freshness, Freshness::kAlive);
  for (const char* bad : {"Alive", "alive ", "", "both", "none"}) {
    j["freshness"] = bad;
    ExpectRefused(j, "policy.freshness: must be \"launch\", \"alive\" or \"either\"");
  }
  j["freshness"] = true;
  ExpectRefused(j, "freshness");
  j["freshness"] = Json::array({"launch"});
  ExpectRefused(j, "freshness");
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

TEST(PolicyParse, LocatesSyntaxErrorsAndNamesMisspeltKeys) {
  // The example with the comma after "id" removed: the error is on the next
  // line, at the end of the key that should have followed a comma.
  absl::StatusOr<std::string> text =
      ReadFileLimited(ExamplePath("hipaa-phi-etl.json"), kMaxPolicyBytes);
  ASSERT_TRUE(text.ok());
  const std::string id_line = "\"id\": \"https://policies.example.org/fdattest/hipaa-phi-etl/v1\",";
  const size_t at = text->find(id_line);
  ASSERT_NE(at, std::string::npos);
  std::string broken = *text;
  broken.erase(at + id_line.size() - 1, 1);
  absl::StatusOr<Policy> p = Policy::Parse(broken);
  ASSERT_FALSE(p.ok());
  EXPECT_THAT(std::string(p.status().message()), HasSubstr("malformed JSON: "));
  EXPECT_THAT(std::string(p.status().message()), HasSubstr("at line 4, column 15"));
  // A misspelt required key is the unknown key it is, with the one it resembles.
  Json j = ExampleJson("hipaa-phi-etl.json");
  j["fd_role"] = j["fd_roles"];
  j.erase("fd_roles");
  ExpectRefused(j, "policy: unknown key \"fd_role\" (did you mean \"fd_roles\"?)");
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

// A filesystem's name is not proof of encryption: the policy-wide fs-type
// lists are refused with the reason, whatever they list (tmpfs and ramfs
// are memory only, never encrypted).
TEST(PolicyParse, RefusesFilesystemNamesAsStorageClaims) {
  const Json j = ExampleJson("hipaa-phi-etl.json");
  for (const char* fs : {"tmpfs", "ramfs", "ext4", "ecryptfs"}) {
    Json encrypted = j;
    encrypted["encrypted_fs_types"] = Json::array({fs});
    ExpectRefused(encrypted, "policy.encrypted_fs_types: is not accepted: a filesystem's name is "
                             "not proof of encryption");
  }
  Json approved = j;
  approved["approved_write_fs_types"] = Json::array({"tmpfs"});
  ExpectRefused(approved, "policy.approved_write_fs_types: is not accepted");
}

TEST(PolicyParse, StorageDefaultsByClassAndReadsTheEncryptionRequirement) {
  Policy p = LoadExample("hipaa-phi-etl.json");
  const RolePolicy* out = p.FindRole("phi-output");
  ASSERT_NE(out, nullptr);
  EXPECT_EQ(out->storage, std::set<StorageClass>{StorageClass::kEncryptedAtRest});
  EXPECT_EQ(out->encryption.min_version, 2);
  EXPECT_EQ(out->encryption.contents_modes, std::set<uint32_t>{1});   // AES-256-XTS
  EXPECT_EQ(out->encryption.filenames_modes, std::set<uint32_t>{4});  // AES-256-CTS
  EXPECT_EQ(p.FindRole("audit-log")->storage, std::set<StorageClass>{StorageClass::kDurable});

  Json j = ExampleJson("hipaa-phi-etl.json");
  j["fd_roles"][1].erase("storage");
  j["fd_roles"][1].erase("encryption");
  j["fd_roles"][2].erase("storage");
  Policy defaults = MustParse(j);
  EXPECT_EQ(defaults.FindRole("phi-output")->storage,
            (std::set<StorageClass>{StorageClass::kEncryptedAtRest, StorageClass::kNotPersisted}));
  EXPECT_EQ(defaults.FindRole("audit-log")->storage,
            std::set<StorageClass>{StorageClass::kDurable});
  EXPECT_TRUE(defaults.FindRole("phi-input")->storage.empty());
}

// The fuzzer's policy seeds are meant to reach deep: each parses, except the
// one named for its refusal, which is refused for that reason only.
TEST(PolicyParse, FuzzSeedsParseExceptTheRefusedOne) {
  const std::filesystem::path dir = std::filesystem::path(__FILE__).parent_path().parent_path() /
                                    "tests" / "fuzz" / "corpus" / "policy";
  int seen = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    const std::string name = entry.path().filename().string();
    if (name == "eu-endpoint-registry.json") continue;  // a registry, not a policy
    ++seen;
    absl::StatusOr<Policy> p = Policy::Load(entry.path().string());
    if (name.rfind("refused-", 0) == 0) {
      ASSERT_FALSE(p.ok()) << name;
      EXPECT_THAT(std::string(p.status().message()), HasSubstr("unknown key \"foo\"")) << name;
    } else {
      EXPECT_TRUE(p.ok()) << name << ": " << p.status();
    }
  }
  EXPECT_GE(seen, 6);
}

TEST(PolicyParse, RefusesStorageSettingsThatWouldBeUntrue) {
  const Json j = ExampleJson("hipaa-phi-etl.json");
  Json volatile_audit = j;
  volatile_audit["fd_roles"][2]["storage"] = Json::array({"durable", "not_persisted"});
  ExpectRefused(volatile_audit,
                "policy.fd_roles[2].storage: an audit trail on tmpfs or ramfs is lost");
  Json clear_output = j;
  clear_output["fd_roles"][1]["storage"] = Json::array({"durable"});
  ExpectRefused(clear_output, "policy.fd_roles[1].storage: \"durable\" admits an unencrypted disk");
  Json input = j;
  input["fd_roles"][0]["storage"] = Json::array({"durable"});
  ExpectRefused(input, "policy.fd_roles[0].storage: a phi_input role is read-only");
  Json stray = j;
  stray["fd_roles"][1]["storage"] = Json::array({"not_persisted"});
  ExpectRefused(stray, "policy.fd_roles[1].encryption: applies only when");
  Json unknown = j;
  unknown["fd_roles"][1]["storage"] = Json::array({"encrypted"});
  ExpectRefused(unknown, "policy.fd_roles[1].storage[0]: must be one of encrypted_at_rest");
  Json mode = j;
  mode["fd_roles"][1]["encryption"]["contents_modes"] = Json::array({"aes-256-xts"});
  ExpectRefused(mode, "policy.fd_roles[1].encryption.contents_modes[0]: must be an fscrypt mode");
  Json version = j;
  version["fd_roles"][1]["encryption"]["min_version"] = 3;
  ExpectRefused(version, "min_version");
  Json extra = j;
  extra["fd_roles"][1]["encryption"]["key"] = "x";
  ExpectRefused(extra, "policy.fd_roles[1].encryption: unknown key \"key\"");
}

}  // namespace
}  // namespace fdattest

namespace fdattest {
namespace {

Json SecretRole() {
  return {{"role", "secret"}, {"class", "secret"}, {"kinds", {"file"}}, {"access", {"r"}}};
}

TEST(PolicyParseSecret, ASecretRoleIsReadOnlyMemoryOnly) {
  Json j = testing::ExampleJson("hipaa-phi-etl.json");
  j["fd_roles"].push_back(SecretRole());
  absl::StatusOr<Policy> p = testing::ParseJson(j);
  ASSERT_TRUE(p.ok()) << p.status();
  ASSERT_NE(p->FindRole("secret"), nullptr);
  EXPECT_EQ(p->FindRole("secret")->role_class, RoleClass::kSecret);
  EXPECT_TRUE(p->FindRole("secret")->storage.empty()) << "no storage class: nothing is written";

  Json writable = j;
  writable["fd_roles"][3]["access"] = Json::array({"r", "w"});
  ExpectRefused(writable, "policy.fd_roles[3].access: a secret role allows only [\"r\"]");
  Json socket = j;
  socket["fd_roles"][3]["kinds"] = Json::array({"file", "socket"});
  ExpectRefused(socket, "policy.fd_roles[3].kinds: a secret role allows only [\"file\"]");
  Json stored = j;
  stored["fd_roles"][3]["storage"] = Json::array({"not_persisted"});
  ExpectRefused(stored, "policy.fd_roles[3].storage: a secret role is read-only memory");
  Json unknown = j;
  unknown["fd_roles"][3]["class"] = "confidential";
  ExpectRefused(unknown, "must be one of phi_input, phi_output, audit, control, secret");
}

}  // namespace
}  // namespace fdattest
