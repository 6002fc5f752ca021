// Rules R1..R7 (rules_data_flow.cc): for each a passing and a failing launch,
// with the reason naming the fd/field and the clause the rule cites.
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tests/support/policy_test_util.h"
#include "verifier/rules.h"

namespace fdattest {
namespace {

using testing::EuRegistry;
using testing::ExampleJson;
using testing::ExpectRule;
using testing::Find;
using testing::GdprRules;
using testing::HipaaRules;
using testing::InetFd;
using testing::kOther;
using testing::MustParse;
using testing::Refute;
using testing::SetFscrypt;
using testing::StorageOf;

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

// A peer whose executable is an interpreter: its digest is the interpreter's,
// which identifies no script, so it never counts as identifying the peer —
// even when the policy lists that digest.
TEST_F(GdprRules, AnInterpreterPeerIdentifiesNoScript) {
  for (const char* exe : {"/usr/bin/python3.11", "/usr/bin/perl", "/bin/sh", "/usr/bin/bash",
                          "/usr/bin/dash", "/usr/bin/ruby3.1", "/usr/bin/node"}) {
    manifest_.fds[0].socket->peer_cred->exe_path = exe;
    std::vector<RuleResult> results = Run();
    ExpectRule(results, "R1", RuleOutcome::kFail,
               {"fd 0 (records-in)", exe, "is an interpreter: its sha256 identifies no script"});
    ExpectRule(results, "R9", RuleOutcome::kFail, {"fd 0 (records-in)", "interpreter"});
  }
  manifest_.fds[0].socket->peer_cred->exe_path = "/usr/libexec/python-records-proxy";
  ExpectRule(Run(), "R1", RuleOutcome::kPass, {"fd 0 (records-in)"});
}

TEST_F(GdprRules, APeerWithoutARecordedExecutablePathIsNotIdentified) {
  manifest_.fds[2].socket->peer_cred->exe_path.reset();  // a manifest from before the field
  ExpectRule(Run(), "R6", RuleOutcome::kFail,
             {"fd 2 (audit-log)", "executable path not recorded"});
}

// --- R3 encrypted output -----------------------------------------------------------

TEST_F(HipaaRules, R3PassesOnAnFscryptPolicyAndSaysWhatWasSeen) {
  ExpectRule(Run(), "R3", RuleOutcome::kPass,
             {"fd 1 (phi-output): ext4: fscrypt v2 AES-256-XTS/AES-256-CTS key 0123456789abcdef…"});
}

TEST_F(HipaaRules, R3FailsOnAPersistedUnencryptedFile) {
  manifest_.fds[1].storage = StorageOf("ext4");
  ExpectRule(Run(), "R3", RuleOutcome::kFail,
             {"fd 1 (phi-output): writable file, ext4: persisted, not encrypted",
              "role phi-output accepts encrypted_at_rest"});
}

// The fs-type name never decides: a mount called "ecryptfs" with an ext4
// magic and no fscrypt policy is not encrypted.
TEST_F(HipaaRules, R3IgnoresTheMountName) {
  manifest_.fds[1].mount->fs_type = "ecryptfs";
  manifest_.fds[1].storage = StorageOf("ext4");
  ExpectRule(Run(), "R3", RuleOutcome::kFail, {"ecryptfs: persisted, not encrypted"});
}

TEST_F(HipaaRules, R3FailsOnAPolicyBelowTheRolesRequirement) {
  SetFscrypt(manifest_.fds[1], 1, 1, 4);
  ExpectRule(Run(), "R3", RuleOutcome::kFail, {"fscrypt v1", "needs fscrypt v2 or later"});
  SetFscrypt(manifest_.fds[1], 2, 9, 9);  // Adiantum
  ExpectRule(Run(), "R3", RuleOutcome::kFail,
             {"fscrypt v2 Adiantum/Adiantum", "contents mode AES-256-XTS",
              "filenames mode AES-256-CTS"});
}

TEST_F(HipaaRules, R3NeverCallsTmpfsEncrypted) {
  manifest_.fds[1].mount->fs_type = "tmpfs";
  manifest_.fds[1].storage = StorageOf("tmpfs");
  // The example accepts only encrypted_at_rest for its output.
  ExpectRule(Run(), "R3", RuleOutcome::kFail,
             {"fd 1 (phi-output): writable file, tmpfs: not persisted",
              "accepts encrypted_at_rest"});
  // A role that accepts memory-only output passes it as what it is.
  Json j = ExampleJson("hipaa-phi-etl.json");
  j["fd_roles"][1]["storage"] = Json::array({"encrypted_at_rest", "not_persisted"});
  policy_ = MustParse(j);
  ExpectRule(Run(), "R3", RuleOutcome::kPass, {"fd 1 (phi-output): tmpfs: not persisted"});
  const RuleResult r3 = Find(Run(), "R3");
  EXPECT_EQ(r3.reason.find("encrypt"), std::string::npos) << r3.reason;
  // The magic decides, not the name: ramfs mounted under any name.
  manifest_.fds[1].mount->fs_type = "ext4";
  manifest_.fds[1].storage = StorageOf("ramfs");
  ExpectRule(Run(), "R3", RuleOutcome::kPass, {"ext4: not persisted"});
}

TEST_F(HipaaRules, R3FailsWithoutAStorageFingerprint) {
  manifest_.fds[1].storage.reset();  // a manifest from before the field
  ExpectRule(Run(), "R3", RuleOutcome::kFail,
             {"fd 1 (phi-output): writable file, no storage fingerprint recorded"});
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

// The HIPAA example names no registry. With a network peer that makes R5 not
// evaluable, whether or not the pipeline has a verified registry at hand:
// only the policy's registry signer could vouch for one.
TEST_F(HipaaRules, R5IsNotEvaluableForANetworkPeerWhenThePolicyNamesNoRegistry) {
  ASSERT_FALSE(policy_.registry.has_value());
  manifest_.fds.push_back(InetFd(3, "phi-output", "w", "10.20.4.7:443", /*ktls=*/true));
  ExpectRule(Run(), "R5", RuleOutcome::kNotEvaluable, {"policy names no endpoint registry"});
  const EndpointRegistry registry = EuRegistry();
  facts_.registry = &registry;
  ExpectRule(Run(), "R5", RuleOutcome::kNotEvaluable, {"policy names no endpoint registry"});
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

TEST_F(HipaaRules, R7PassesEachFileOnItsRolesStorageSayingWhatWasSeen) {
  ExpectRule(Run(), "R7", RuleOutcome::kPass,
             {"fd 1 (phi-output): ext4: fscrypt v2", "(encrypted_at_rest)",
              "fd 2 (audit-log): ext4: persisted, not encrypted (durable)"});
  manifest_.fds[2].storage = StorageOf("xfs");
  manifest_.fds[2].mount->fs_type = "xfs";
  ExpectRule(Run(), "R7", RuleOutcome::kPass, {"fd 2 (audit-log): xfs: persisted"});
}

TEST_F(HipaaRules, R7FailsAnAuditLogThatIsNotDurable) {
  manifest_.fds[2].mount->fs_type = "tmpfs";
  manifest_.fds[2].storage = StorageOf("tmpfs");
  ExpectRule(Run(), "R7", RuleOutcome::kFail,
             {"fd 2 (audit-log): writable file, tmpfs: not persisted", "accepts durable"});
}

// Durable means a filesystem known to keep its bytes: an overlay (whose upper
// layer may be a tmpfs) or a pseudo filesystem is not.
TEST_F(HipaaRules, R7FailsAnAuditLogWherePersistenceIsUnknown) {
  manifest_.fds[2].mount->fs_type = "overlay";
  manifest_.fds[2].storage = StorageOf("overlay");
  ExpectRule(Run(), "R7", RuleOutcome::kFail,
             {"fd 2 (audit-log): writable file, overlay: persistence unknown, not encrypted",
              "needs a filesystem known to persist for durable"});
}

TEST_F(HipaaRules, R7FailsAPhiOutputOnPlainDiskAndAnUndefinedRole) {
  manifest_.fds[1].storage = StorageOf("ext4");
  ExpectRule(Run(), "R7", RuleOutcome::kFail,
             {"fd 1 (phi-output): writable file, ext4: persisted, not encrypted"});
  manifest_.fds[1].storage = StorageOf("tmpfs");
  manifest_.fds[1].role = "scratch";  // not in the policy: judged as a phi_output
  ExpectRule(Run(), "R7", RuleOutcome::kPass, {"fd 1 (scratch)", "not persisted"});
}

}  // namespace
}  // namespace fdattest
