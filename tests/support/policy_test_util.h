// Test-only fixtures for the policy engine's tests (policy_model_test.cc,
// endpoint_registry_test.cc, rules_*_test.cc, trust_vector_test.cc): the
// example policies and registry of examples/policies/, launches shaped like
// theirs, the facts the pipeline would establish, and ExpectRule, which checks
// a result's outcome, reason and citation. Not thread-safe.
#ifndef FDATTEST_TESTS_SUPPORT_POLICY_TEST_UTIL_H_
#define FDATTEST_TESTS_SUPPORT_POLICY_TEST_UTIL_H_

#include <string>
#include <vector>

#include "common/json.h"
#include "common/manifest.h"
#include "common/status.h"
#include "gtest/gtest.h"
#include "verifier/endpoint_registry.h"
#include "verifier/policy_model.h"
#include "verifier/rules.h"

namespace fdattest::testing {

// Digests in examples/policies/*.json.
inline constexpr char kBusybox[] =
    "3d9f2889d6782537624a4e1a10e68a2ddd53e0ee8bac02676f27308f42ec6bf6";
inline constexpr char kLauncher[] =
    "7c499078c4a41d7104224bb7842023a981959e21e5f00a52dd5eb899fefa04fb";
inline constexpr char kPatients[] =
    "94965720a30a352429d6304fabc9bd5a20dffd3d4577c00b597be9e5aa3e11cb";
inline constexpr char kEuWorkload[] =
    "4820d367bd82faac70db88e1e28f26f122bcfb06083468587205e58aeda0a0c3";
inline constexpr char kRecordsProxy[] =
    "21b2068424f9fabff76ddbdacb7850ec4769078ae3baf2432b129c4208cc9a62";
inline constexpr char kAuditForwarder[] =
    "f2a57e74161950f44aa530fbf3963bf36a830dd2d4037ae8fe53258527e00bd7";
inline constexpr char kOther[] = "0000000000000000000000000000000000000000000000000000000000000001";
inline constexpr char kAkName[] =
    "000b5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8";

// examples/policies/<name>.
std::string ExamplePath(const std::string& name);

// The citations docs/policy.md "Rules" gives, written out independently of
// the implementation's table.
Citation ExpectedCitation(const std::string& id);

FdFingerprint FileFd(int fd, const std::string& role, const std::string& access,
                     const std::string& fs_type, bool read_only_mount);
// The storage fingerprint a file on `fs_type` ("ext4", "xfs", "tmpfs",
// "ramfs", "proc", "overlay") shows: its magic, not encrypted.
StorageFingerprint StorageOf(const std::string& fs_type);
// Puts `fp` under an fscrypt policy (FSCRYPT_MODE_* values).
void SetFscrypt(FdFingerprint& fp, int version, uint32_t contents_mode, uint32_t filenames_mode);
FdFingerprint UnixFd(int fd, const std::string& role, const std::string& access, uint32_t uid,
                     const std::string& exe);
FdFingerprint InetFd(int fd, const std::string& role, const std::string& access,
                     const std::string& peer, bool ktls);
FdFingerprint DevNullFd(int fd, const std::string& role, const std::string& access);

Manifest BaseManifest(const std::string& exe);
// A launch shaped like examples/profiles/phi-checksum.json's (examples/demo.sh):
// fd 0 the vetted extract from a read-only bind mount, fd 1 the result in an
// fscrypt v2 directory on ext4, fd 2 the append-only audit log on plain ext4.
Manifest HipaaManifest();
// The GDPR processor's launch: records from the local proxy, results over
// kTLS to an EEA endpoint, audit to the forwarder, diagnostics to /dev/null.
Manifest GdprManifest();

std::vector<PropertyResult> AllPropertiesHold();
// Everything the pipeline establishes online with a fresh nonce.
PolicyFacts GoodFacts(const Manifest& m);
// Marks filter property `id` refuted (and so the filter unproven).
void Refute(PolicyFacts& facts, const std::string& id, const std::string& detail);

Policy LoadExample(const std::string& name);
Json ExampleJson(const std::string& name);
absl::StatusOr<Policy> ParseJson(const Json& j);
Policy MustParse(const Json& j);
EndpointRegistry EuRegistry();

const RuleResult& Find(const std::vector<RuleResult>& results, const std::string& id);
// Outcome, the reason naming what it must, and the rule's clause.
void ExpectRule(const std::vector<RuleResult>& results, const std::string& id, RuleOutcome outcome,
                const std::vector<std::string>& reason_mentions = {});

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

}  // namespace fdattest::testing

#endif  // FDATTEST_TESTS_SUPPORT_POLICY_TEST_UTIL_H_
