// Rules R0 and R8..R14 (rules_process.cc): for each a passing and a failing
// launch, with the reason naming the fd/field and the clause the rule cites.
#include <sys/sysmacros.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/file_io.h"
#include "gtest/gtest.h"
#include "tests/support/policy_test_util.h"
#include "verifier/rules.h"

namespace fdattest {
namespace {

using testing::DevNullFd;
using testing::ExampleJson;
using testing::ExpectRule;
using testing::Find;
using testing::GdprRules;
using testing::HipaaManifest;
using testing::HipaaRules;
using testing::kBusybox;
using testing::kLauncher;
using testing::kOther;
using testing::MustParse;
using testing::Refute;

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

// --- R8 and secret fds -----------------------------------------------------------

// A released secret's fd as the launcher records it: the sealed-to-be memfd
// (tmpfs, empty at measurement), read-only, with the secret's name.
FdFingerprint SecretFd(int fd, const std::string& role, const std::string& name) {
  FdFingerprint fp = testing::FileFd(fd, role, "r", "tmpfs", false);
  fp.source = "secret";
  fp.secret = name;
  fp.stat.size = 0;
  fp.stat.nlink = 0;
  fp.memfd_seals = 0;
  fp.mount = MountFingerprint{.mnt_id = 1, .fs_type = "unknown", .read_only = false};
  return fp;
}

Json WithSecretRole(Json j) {
  j["fd_roles"].push_back(
      {{"role", "secret"}, {"class", "secret"}, {"kinds", {"file"}}, {"access", {"r"}}, {"max", 1}});
  j["max_fds"] = 4;
  return j;
}

TEST_F(HipaaRules, ASecretFdUnderASecretRolePassesEveryRule) {
  policy_ = MustParse(WithSecretRole(ExampleJson("hipaa-phi-etl.json")));
  manifest_.fds.push_back(SecretFd(5, "secret", "phi-etl-key"));
  Reset();
  std::vector<RuleResult> results = Run();
  ExpectRule(results, "R8", RuleOutcome::kPass, {"4 fds"});
  // Read-only memory: no output (R3), nothing at rest (R7), not an input (R1, R2).
  for (const RuleResult& r : results) {
    EXPECT_NE(r.outcome, RuleOutcome::kFail) << r.id << ": " << r.reason;
  }
}

TEST_F(HipaaRules, R8FailsOnASecretFdWithoutASecretRoleEvenInAnOpenWorld) {
  Json j = WithSecretRole(ExampleJson("hipaa-phi-etl.json"));
  policy_ = MustParse(j);
  manifest_.fds.push_back(SecretFd(5, "key", "phi-etl-key"));  // role not in the policy
  Reset();
  ExpectRule(Run(), "R8", RuleOutcome::kFail,
             {"fd 5 (key)", "secret \"phi-etl-key\"", "not declare of class secret"});
  j["closed_world"] = false;
  policy_ = MustParse(j);
  ExpectRule(Run(), "R8", RuleOutcome::kFail, {"fd 5 (key)", "not declare of class secret"});
  // A role of another class does not admit it either.
  j["fd_roles"].push_back(
      {{"role", "key"}, {"class", "control"}, {"kinds", {"file"}}, {"access", {"r"}}});
  policy_ = MustParse(j);
  ExpectRule(Run(), "R8", RuleOutcome::kFail, {"fd 5 (key)", "not declare of class secret"});
}

TEST_F(HipaaRules, R8FailsOnASecretRoleFdThatIsNotASecretOrNotInMemory) {
  policy_ = MustParse(WithSecretRole(ExampleJson("hipaa-phi-etl.json")));
  FdFingerprint plain = SecretFd(5, "secret", "phi-etl-key");
  plain.secret.reset();
  plain.source = "open";
  manifest_.fds.push_back(plain);
  Reset();
  ExpectRule(Run(), "R8", RuleOutcome::kFail, {"fd 5 (secret)", "not a released secret's memfd"});
  manifest_.fds.back() = SecretFd(5, "secret", "phi-etl-key");
  manifest_.fds.back().storage = testing::StorageOf("ext4");
  Reset();
  ExpectRule(Run(), "R8", RuleOutcome::kFail, {"fd 5 (secret)", "not in memory-only storage"});
  manifest_.fds.back().storage.reset();
  Reset();
  ExpectRule(Run(), "R8", RuleOutcome::kFail, {"not in memory-only storage"});
}

TEST(SecretReleaseExample, ItsPolicyAffirmsALaunchOfItsProfile) {
  // examples/profiles/secret-checksum.json as launched: the key's memfd at
  // fd 0, the result and the audit log as in the HIPAA job.
  Policy policy = testing::LoadExample("secret-release.json");
  Manifest m = HipaaManifest();
  m.fds[0] = SecretFd(0, "secret", "phi-etl-key");
  PolicyFacts facts = testing::GoodFacts(m);
  for (const RuleResult& r : EvaluatePolicy(policy, facts)) {
    EXPECT_EQ(r.outcome, RuleOutcome::kPass) << r.id << ": " << r.reason;
  }
  EXPECT_EQ(policy.secrets, std::vector<std::string>{"phi-etl-key"});
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
  ExpectRule(Run(), "R11", RuleOutcome::kPass, {"nonce fresh", "launched after it", "resetCount 3"});
}

TEST_F(HipaaRules, R11FailsWhenOnlyTheCertificationIsFresh) {
  // The load observation is bound to another nonce and nothing re-observed
  // the workload: the nonce only shows that the register was certified now.
  facts_.launch_fresh = false;
  ExpectRule(Run(), "R11", RuleOutcome::kFail,
             {"only the certification is fresh", "measured before this nonce",
              "freshness \"either\""});
  EXPECT_TRUE(Find(Run(), "R11").fatal);
}

TEST_F(HipaaRules, R11EitherAcceptsAnAliveObservationBoundToTheNonce) {
  facts_.launch_fresh = false;
  facts_.alive_fresh = true;
  ExpectRule(Run(), "R11", RuleOutcome::kPass, {"observed alive and unchanged after it"});
}

TEST_F(HipaaRules, R11LaunchRequiresTheLoadObservationOnTheNonce) {
  Json j = ExampleJson("hipaa-phi-etl.json");
  j["freshness"] = "launch";
  policy_ = MustParse(j);
  ExpectRule(Run(), "R11", RuleOutcome::kPass, {"launched after it"});
  facts_.launch_fresh = false;
  facts_.alive_fresh = true;  // re-observed on the nonce, but launched before it
  ExpectRule(Run(), "R11", RuleOutcome::kFail,
             {"only the certification is fresh", "an alive observation is bound to it",
              "freshness \"launch\""});
}

TEST_F(HipaaRules, R11AliveRequiresAnAliveObservationOnTheNonce) {
  Json j = ExampleJson("hipaa-phi-etl.json");
  j["freshness"] = "alive";
  policy_ = MustParse(j);
  // A fresh launch is not a re-observation.
  ExpectRule(Run(), "R11", RuleOutcome::kFail,
             {"no alive observation of this launch is bound to this nonce",
              "the launch is fresh, but it was not re-observed", "freshness \"alive\""});
  facts_.launch_fresh = false;
  ExpectRule(Run(), "R11", RuleOutcome::kFail, {"no alive observation"});
  facts_.alive_fresh = true;
  ExpectRule(Run(), "R11", RuleOutcome::kPass, {"observed alive and unchanged after it"});
}

TEST_F(HipaaRules, R11ObservationsDoNotMakeUpForAMissingNonce) {
  facts_.nonce = PolicyFacts::Nonce::kNotChecked;
  facts_.alive_fresh = true;
  ExpectRule(Run(), "R11", RuleOutcome::kNotEvaluable, {"no expected nonce"});
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
  // The attestor hashed another launcher than the policy's, whatever the
  // manifest says.
  facts_.launcher_sha256 = kOther;
  ExpectRule(Run(), "R13", RuleOutcome::kFail,
             {absl::StrCat("launcher ", kOther, " (observed) is not a reference launcher"),
              absl::StrCat("the manifest claims ", kLauncher)});
  Reset();
  facts_.filter_sha256 = kOther;
  ExpectRule(Run(), "R13", RuleOutcome::kFail, {"not the digest of the manifest's filter"});
  Reset();
  Json j = ExampleJson("hipaa-phi-etl.json");
  j["workload"]["filter_sha256"] = Json::array({kOther});
  policy_ = MustParse(j);
  ExpectRule(Run(), "R13", RuleOutcome::kFail, {"workload.filter_sha256"});
}

TEST_F(HipaaRules, R13IgnoresTheManifestsLauncherClaim) {
  // A foreign launcher that writes the genuine launcher's digest into its
  // manifest is still the launcher the attestor hashed.
  manifest_.launcher_sha256 = kLauncher;
  facts_.launcher_sha256 = kOther;
  ExpectRule(Run(), "R13", RuleOutcome::kFail, {kOther, "(observed)"});
  // And the genuine launcher is judged by what the attestor saw, not by a
  // manifest claim that differs: both are reported.
  manifest_.launcher_sha256 = kOther;
  facts_.launcher_sha256 = kLauncher;
  ExpectRule(Run(), "R13", RuleOutcome::kPass,
             {absl::StrCat("launcher ", kLauncher, " (observed)"),
              absl::StrCat("the manifest claims ", kOther)});
}

TEST_F(HipaaRules, R13FailsWhenTheWorkloadWasNotObserved) {
  facts_.observed = false;
  facts_.not_observed = "ptrace_scope is 3";
  ExpectRule(Run(), "R13", RuleOutcome::kFail,
             {"workload not observed by the attestor: ptrace_scope is 3"});
  EXPECT_TRUE(Find(Run(), "R13").fatal);
  facts_.not_observed.clear();
  ExpectRule(Run(), "R13", RuleOutcome::kFail,
             {"workload not observed by the attestor: no load observation"});
  Reset();
  facts_.launcher_sha256.clear();
  ExpectRule(Run(), "R13", RuleOutcome::kFail, {"no launcher digest observed by the attestor"});
}

// Whatever a shipped policy allows otherwise, it refuses a launch the
// attestor did not observe: R13 fails, and a failure is always fatal. A
// template's placeholders ("@EXE_SHA256@", filled in by the scripts that
// deploy it) are filled with a digest first.
// Every "@NAME@" placeholder (NAME of A-Z, 0-9, _) of a policy template
// replaced with `value`, as the deploy scripts fill them.
std::string FillPlaceholders(const std::string& text, absl::string_view value) {
  std::string out;
  for (size_t i = 0; i < text.size();) {
    size_t end = text[i] == '@' ? text.find('@', i + 1) : std::string::npos;
    bool name = end != std::string::npos && end > i + 1;
    for (size_t k = i + 1; name && k < end; ++k) {
      const char c = text[k];
      name = (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
    }
    if (name) {
      out.append(value.data(), value.size());
      i = end + 1;
    } else {
      out.push_back(text[i++]);
    }
  }
  return out;
}

TEST(ShippedPolicies, EveryExamplePolicyFailsAnUnobservedLaunch) {
  const Manifest manifest = HipaaManifest();
  PolicyFacts facts = ::fdattest::testing::GoodFacts(manifest);
  facts.observed = false;
  facts.not_observed = "the kernel cannot be read";
  int policies = 0;
  for (const auto& entry : std::filesystem::directory_iterator(
           std::filesystem::path(::fdattest::testing::ExamplePath("x")).parent_path())) {
    if (entry.path().extension() != ".json" ||
        entry.path().filename().string().find("registry") != std::string::npos) {
      continue;
    }
    SCOPED_TRACE(entry.path().filename().string());
    absl::StatusOr<std::string> text = ReadFileLimited(entry.path().string(), kMaxPolicyBytes);
    ASSERT_TRUE(text.ok()) << text.status();
    const std::string filled = FillPlaceholders(*text, kOther);
    absl::StatusOr<Policy> policy = Policy::Parse(filled);
    ASSERT_TRUE(policy.ok()) << policy.status();
    ++policies;
    const std::vector<RuleResult> results = EvaluatePolicy(*policy, facts);
    const RuleResult& r13 = Find(results, "R13");
    EXPECT_EQ(r13.outcome, RuleOutcome::kFail) << r13.reason;
    EXPECT_TRUE(r13.fatal);
    EXPECT_NE(r13.reason.find("workload not observed by the attestor: the kernel cannot be read"),
              std::string::npos)
        << r13.reason;
  }
  EXPECT_GE(policies, 4);
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

}  // namespace
}  // namespace fdattest
