// Acceptance: genuine evidence, end to end, through the real command line.
//
// One swtpm and the real fdattestd (NV extend index, then PCR 15), the real
// fdlaunch running busybox-static `sha256sum` under the phi-checksum profile
// (input on a read-only mount, the output on a tmpfs, the audit log on disk),
// nonces from `fdattest challenge --state`, and `fdattest verify` judging the
// evidence under examples/policies/hipaa-phi-etl.json, patched only where
// values are per-build or per-run (and, loudly, where this test's output is
// stored differently from the example's: see kMemoryOnlyOutputNote). The EAR
// it issues is checked with the real `jose` CLI. Evidence is produced once
// for the suite (SetUpTestSuite); the binary is one ctest test so that
// happens once.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/strip.h"
#include "common/base64.h"
#include "common/evidence.h"
#include "common/json.h"
#include "common/sha256.h"
#include "tests/support/swtpm.h"
#include "tests/verifier/evidence_fixture.h"

namespace fdattest::e2e {
namespace {

using ::fdattest::testing::Swtpm;
using ::testing::HasSubstr;
using ::testing::MatchesRegex;
using ::testing::Not;
using ::testing::StartsWith;

// LOUD: examples/policies/hipaa-phi-etl.json accepts the phi-output file only
// under an fscrypt v2 AES-256-XTS policy (storage "encrypted_at_rest"). This
// suite keeps its output on a tmpfs, which is memory only: the test policy
// accepts exactly that for the output (storage "not_persisted"), a true
// statement about tmpfs, never a claim that it is encrypted (examples/demo.sh
// and tests/integration/storage_fingerprint_test.cc use a real fscrypt
// directory). ExamplePolicyAsWrittenFailsOnlyOnTheMemoryOnlyOutput pins that
// R3 and R7 on that file are all the unpatched example refuses.
constexpr char kMemoryOnlyOutputNote[] =
    "TEST-ONLY PATCH: the phi-output may be memory only (tmpfs: not persisted)";

constexpr char kInputName[] = "patients.csv";
constexpr char kInputContent[] =
    "patient_id,name,dob,diagnosis\n"
    "1001,Jane Roe,1970-01-01,J45.909\n"
    "1002,John Doe,1980-02-02,E11.9\n";

std::string Base64Url(absl::string_view raw) {
  std::string s = Base64Encode(raw);
  absl::StrReplaceAll({{"+", "-"}, {"/", "_"}}, &s);
  while (!s.empty() && s.back() == '=') s.pop_back();
  return s;
}

// Everything the suite produces once.
struct Suite {
  ScratchDir dir;
  std::unique_ptr<JobMounts> mounts;
  std::unique_ptr<Swtpm> tpm;
  std::string tpm_ca;  // PEM path
  std::string signing_key, public_jwk;
  std::string busybox_sha256, fdlaunch_sha256, input_sha256;
  std::string policy_id;
  std::string policy;               // the example, per-run values and the memory-only output
  std::string policy_as_written;    // the example with per-run values only
  std::string policy_wrong_exe;     // `policy` with another executable digest
  std::string state_after_priming;  // state bytes: both attesters seen once
  // NV register: a priming launch (first contact) and the one under test.
  std::string nv_ak, nv_priming_evidence, nv_evidence, nv_nonce_hex, nv_manifest;
  ProcessResult nv_priming;
  // PCR register.
  std::string pcr_ak, pcr_evidence, pcr_nonce_hex;
  ProcessResult pcr_priming;
};

Suite* suite = nullptr;

ProcessResult Fdattest(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {FdattestPath()};
  argv.insert(argv.end(), args.begin(), args.end());
  return RunProcess(argv);
}

absl::StatusOr<std::string> Challenge(const std::string& state) {
  ProcessResult r = Fdattest({"challenge", "--state", state});
  if (r.exit_code != 0) return absl::InternalError("fdattest challenge: " + r.err);
  return std::string(absl::StripSuffix(r.out, "\n"));
}

absl::Status WritePolicies(Suite& s) {
  ASSIGN_OR_RETURN(std::string text, ReadFile(SourcePath("examples/policies/hipaa-phi-etl.json")));
  ASSIGN_OR_RETURN(Json p, ParseJsonStrict(text));
  s.policy_id = p["id"].get<std::string>();
  // Per-build and per-run values: the workload executable, the launcher and
  // the vetted input content, each computed here from the file itself.
  p["workload"]["exe_sha256"] = Json::array({s.busybox_sha256});
  p["workload"]["launcher_sha256"] = Json::array({s.fdlaunch_sha256});
  bool input_role = false;
  for (Json& role : p["fd_roles"]) {
    if (role["role"] == "phi-input") {
      role["content_sha256"] = Json::array({s.input_sha256});
      input_role = true;
    }
  }
  if (!input_role) return absl::FailedPreconditionError("the example policy has no phi-input role");
  s.policy_as_written = s.dir.Path("policy-as-written.json");
  RETURN_IF_ERROR(WriteFile(s.policy_as_written, p.dump(2)));

  // kMemoryOnlyOutputNote.
  for (Json& role : p["fd_roles"]) {
    if (role["role"] == "phi-output") {
      role["storage"] = Json::array({"not_persisted"});
      role.erase("encryption");
    }
  }
  p["description"] =
      absl::StrCat(p["description"].get<std::string>(), " [", kMemoryOnlyOutputNote, "]");
  s.policy = s.dir.Path("policy.json");
  RETURN_IF_ERROR(WriteFile(s.policy, p.dump(2)));

  p["workload"]["exe_sha256"] = Json::array({HexEncode(Sha256("not the vetted executable"))});
  s.policy_wrong_exe = s.dir.Path("policy-wrong-exe.json");
  return WriteFile(s.policy_wrong_exe, p.dump(2));
}

// Two launches per register: the first is verified once to give the state the
// attester's counters (first contact can only be a warning: R11 continuity),
// the second is the evidence under test.
absl::Status RunRegister(Suite& s, const std::string& profile, const std::string& state,
                         const std::string& name, const std::vector<std::string>& extra,
                         std::string& ak_copy, std::string& priming_evidence,
                         ProcessResult& priming, std::string& evidence, std::string& nonce_hex,
                         std::string* manifest) {
  ASSIGN_OR_RETURN(std::unique_ptr<Fdattestd> daemon,
                   Fdattestd::Start(s.tpm->tcti(), s.dir.Path(name), extra));
  ASSIGN_OR_RETURN(std::string first_nonce, Challenge(state));
  ASSIGN_OR_RETURN(Launch first, LaunchAttested(profile, daemon->socket(), s.dir.path(),
                                                name + "-priming", first_nonce));
  ASSIGN_OR_RETURN(nonce_hex, Challenge(state));
  ASSIGN_OR_RETURN(Launch second,
                   LaunchAttested(profile, daemon->socket(), s.dir.path(), name, nonce_hex));
  RETURN_IF_ERROR(daemon->Stop());
  ak_copy = s.dir.Path(name + "-ak.pub");
  ASSIGN_OR_RETURN(std::string ak, daemon->AkPublic());
  RETURN_IF_ERROR(WriteFile(ak_copy, ak));
  priming_evidence = s.dir.Path(name + "-priming.evidence.json");
  evidence = s.dir.Path(name + ".evidence.json");
  if (manifest != nullptr) *manifest = second.manifest;
  priming = Fdattest({"verify", priming_evidence, "--policy", s.policy, "--ak", ak_copy, "--state",
                      state, "--tpm-ca", s.tpm_ca, "--json"});
  return absl::OkStatus();
}

absl::Status BuildSuite(Suite& s) {
  if (!s.dir.ok()) return absl::InternalError("no scratch directory");
  ASSIGN_OR_RETURN(s.mounts, JobMounts::Create(s.dir.path(), kInputName, kInputContent));
  const std::string profile = s.dir.Path("profile.json");
  RETURN_IF_ERROR(WriteFile(profile, PhiChecksumProfile(*s.mounts)));
  s.busybox_sha256 = Sha256HexOfFile(kBusybox);
  s.fdlaunch_sha256 = Sha256HexOfFile(FdlaunchPath());
  s.input_sha256 = HexEncode(Sha256(kInputContent));
  RETURN_IF_ERROR(WritePolicies(s));

  ASSIGN_OR_RETURN(s.tpm_ca, Swtpm::CaCertPemPath());
  ASSIGN_OR_RETURN(s.tpm, Swtpm::Start());
  s.signing_key = s.dir.Path("verifier.jwk");
  if (ProcessResult r = Fdattest({"key", "generate", "--out", s.signing_key}); r.exit_code != 0) {
    return absl::InternalError("fdattest key generate: " + r.err);
  }
  ProcessResult pub = Fdattest({"key", "public", s.signing_key});
  if (pub.exit_code != 0) return absl::InternalError("fdattest key public: " + pub.err);
  s.public_jwk = s.dir.Path("verifier.pub.jwk");
  RETURN_IF_ERROR(WriteFile(s.public_jwk, pub.out));

  const std::string state = s.dir.Path("verifier.state");
  RETURN_IF_ERROR(RunRegister(s, profile, state, "nv", {}, s.nv_ak, s.nv_priming_evidence,
                              s.nv_priming, s.nv_evidence, s.nv_nonce_hex, &s.nv_manifest));
  std::string pcr_priming_evidence;
  RETURN_IF_ERROR(RunRegister(
      s, profile, state, "pcr", {"--register", absl::StrCat("pcr:", kMeasurementPcr)}, s.pcr_ak,
      pcr_priming_evidence, s.pcr_priming, s.pcr_evidence, s.pcr_nonce_hex, nullptr));
  ASSIGN_OR_RETURN(s.state_after_priming, ReadFile(state));
  return absl::OkStatus();
}

class VerifyE2eTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    suite = new Suite();
    absl::Status built = BuildSuite(*suite);
    if (!built.ok()) {
      delete suite;
      suite = nullptr;
    }
    ASSERT_TRUE(built.ok()) << built;
  }
  static void TearDownTestSuite() {
    delete suite;
    suite = nullptr;
  }
  void SetUp() override { ASSERT_NE(suite, nullptr) << "no genuine evidence (see the first test)"; }

  const Suite& s() { return *suite; }

  // A private copy of the state as it was after the priming verifications:
  // both nonces under test unused, both attesters' counters known.
  std::string FreshState(absl::string_view name) {
    const std::string path = s().dir.Path(absl::StrCat(name, ".state"));
    EXPECT_TRUE(WriteFile(path, s().state_after_priming, 0600).ok());
    return path;
  }

  static Json ParseReport(const ProcessResult& r) {
    absl::StatusOr<Json> j = ParseJsonStrict(r.out);
    EXPECT_TRUE(j.ok()) << j.status() << "\nstdout: " << r.out << "\nstderr: " << r.err;
    return j.ok() ? *j : Json::object();
  }

  static std::string FailingRule(const Json& report) {
    for (const Json& rule : report.value("rules", Json::array())) {
      if (rule["outcome"] != "pass") return rule["id"].get<std::string>() + ": " + rule.dump();
    }
    return "";
  }
};

TEST_F(VerifyE2eTest, GenuineNvEvidenceIsAffirmingUnderTheHipaaPolicy) {
  ProcessResult r =
      Fdattest({"verify", s().nv_evidence, "--policy", s().policy, "--ak", s().nv_ak, "--state",
                FreshState("affirming"), "--tpm-ca", s().tpm_ca, "--json"});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  Json report = ParseReport(r);
  EXPECT_EQ(report["verdict"], "affirming") << FailingRule(report);
  EXPECT_EQ(report["exit_code"], 0);
  EXPECT_EQ(report["failure_class"], "");
  EXPECT_EQ(report["policy_id"], s().policy_id);
  EXPECT_EQ(report["exe_sha256"], s().busybox_sha256);
  for (const Json& step : report["steps"]) EXPECT_EQ(step["outcome"], "pass") << step.dump();
  EXPECT_EQ(report["rules"].size(), 15u);
  for (const Json& rule : report["rules"]) EXPECT_EQ(rule["outcome"], "pass") << rule.dump();
  EXPECT_EQ(report["trust_vector"]["hardware"], 2) << "the EK certificate was checked";
  // Launched on the verifier's nonce, observed by the attestor.
  EXPECT_EQ(report["freshness"], "launch");
  bool saw_observation = false;
  for (const Json& step : report["steps"]) saw_observation |= step["step"] == "observation";
  EXPECT_TRUE(saw_observation) << report["steps"].dump();

  // The manifest agrees with what the test computed on its own.
  absl::StatusOr<Json> manifest = ParseJsonStrict(s().nv_manifest);
  ASSERT_TRUE(manifest.ok()) << manifest.status();
  EXPECT_EQ((*manifest)["exe"]["sha256"], s().busybox_sha256);
  EXPECT_EQ((*manifest)["launcher"]["sha256"], s().fdlaunch_sha256);
  EXPECT_EQ((*manifest)["fds"][0]["content_sha256"], s().input_sha256);
  EXPECT_EQ((*manifest)["fds"][0]["mount"]["read_only"], true);
}

// Checks an EAR with the independent jose CLI and returns its claims.
Json JoseVerifiedClaims(const std::string& ear, const std::string& public_jwk) {
  ProcessResult jose = RunProcess({"jose", "jws", "ver", "-i", ear, "-k", public_jwk});
  EXPECT_EQ(jose.exit_code, 0) << jose.err;
  ProcessResult payload = RunProcess({"jose", "jws", "ver", "-i", ear, "-k", public_jwk, "-O-"});
  EXPECT_EQ(payload.exit_code, 0) << payload.err;
  absl::StatusOr<Json> claims = ParseJsonStrict(payload.out);
  EXPECT_TRUE(claims.ok()) << claims.status() << payload.out;
  return claims.ok() ? *claims : Json::object();
}

TEST_F(VerifyE2eTest, AffirmingVerdictIssuesAnAffirmingEarThatJoseVerifies) {
  const std::string ear = s().dir.Path("nv.ear.jwt");
  ProcessResult r = Fdattest({"verify", s().nv_evidence, "--policy", s().policy, "--ak", s().nv_ak,
                              "--state", FreshState("ear"), "--tpm-ca", s().tpm_ca, "--signing-key",
                              s().signing_key, "--ear-out", ear, "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  Json report = ParseReport(r);
  EXPECT_EQ(report["verdict"], "affirming") << FailingRule(report);
  absl::StatusOr<std::string> token = ReadFile(ear);
  ASSERT_TRUE(token.ok()) << token.status();
  EXPECT_EQ(report["ear"], *token);

  const Json claims = JoseVerifiedClaims(ear, s().public_jwk);
  const Json& sub = claims["submods"]["fdattest"];
  EXPECT_EQ(sub["ear_status"], "affirming") << claims.dump();
  EXPECT_EQ(claims["ear_status"], "affirming");
  absl::StatusOr<std::string> nonce = HexDecode(s().nv_nonce_hex);
  ASSERT_TRUE(nonce.ok());
  EXPECT_EQ(claims["eat_nonce"], Base64Url(*nonce));
  EXPECT_THAT(sub["ear_appraisal_policy_ids"].get<std::vector<std::string>>(),
              ::testing::Contains(s().policy_id));
  // The build that judged: the project version and the commit it was built
  // from (a commit id whenever the source is a git checkout).
  const std::string build = claims["ear_verifier_id"]["build"].get<std::string>();
  EXPECT_THAT(build, StartsWith(absl::StrCat("fdattest ", FDATTEST_PROJECT_VERSION, " (git ")));
  struct stat st;
  if (stat(SourcePath(".git").c_str(), &st) == 0) {
    EXPECT_THAT(build, MatchesRegex("fdattest [0-9.]+ \\(git [0-9a-f]{40}(-dirty)?\\)"));
  } else {
    EXPECT_THAT(build, MatchesRegex("fdattest [0-9.]+ \\(git unknown\\)"));
  }
  // Every binary's --version names the same build.
  for (const char* binary : {FdattestPath(), FdlaunchPath(), FdattestdPath()}) {
    ProcessResult version = RunProcess({binary, "--version"});
    EXPECT_EQ(version.exit_code, 0) << binary << ": " << version.err;
    EXPECT_EQ(version.out, build + "\n") << binary;
  }
  EXPECT_EQ(claims["ear_x_fdattest"]["evidence_sha256"], report["evidence_sha256"]);

  // A tampered token does not verify with jose.
  std::string bad_token = *token;
  bad_token[bad_token.size() / 2] = bad_token[bad_token.size() / 2] == 'A' ? 'B' : 'A';
  const std::string bad = s().dir.Path("nv.ear.tampered.jwt");
  ASSERT_TRUE(WriteFile(bad, bad_token).ok());
  EXPECT_NE(RunProcess({"jose", "jws", "ver", "-i", bad, "-k", s().public_jwk}).exit_code, 0);
}

TEST_F(VerifyE2eTest, WarningVerdictIssuesAWarningEarThatJoseVerifies) {
  // No nonce expected: a warning, whose EAR carries the bundle's nonce.
  const std::string ear = s().dir.Path("nv.warning.ear.jwt");
  ProcessResult r =
      Fdattest({"verify", s().nv_evidence, "--policy", s().policy, "--ak", s().nv_ak, "--tpm-ca",
                s().tpm_ca, "--signing-key", s().signing_key, "--ear-out", ear, "--json"});
  ASSERT_EQ(r.exit_code, 1) << r.out << r.err;
  const Json claims = JoseVerifiedClaims(ear, s().public_jwk);
  EXPECT_EQ(claims["submods"]["fdattest"]["ear_status"], "warning") << claims.dump();
  EXPECT_EQ(claims["eat_nonce"], Base64Url(*HexDecode(s().nv_nonce_hex)));
  EXPECT_THAT(
      claims["submods"]["fdattest"]["ear_appraisal_policy_ids"].get<std::vector<std::string>>(),
      ::testing::Contains(s().policy_id));
}

TEST_F(VerifyE2eTest, VerifyingTheSameEvidenceTwiceIsBrokenBecauseTheNonceWasUsed) {
  const std::string state = FreshState("replay");
  std::vector<std::string> args = {"verify",   s().nv_evidence, "--policy", s().policy,
                                   "--ak",     s().nv_ak,       "--state",  state,
                                   "--tpm-ca", s().tpm_ca,      "--json"};
  ProcessResult first = Fdattest(args);
  ASSERT_EQ(first.exit_code, 0) << first.out << first.err;
  ProcessResult second = Fdattest(args);
  EXPECT_EQ(second.exit_code, 3) << second.out << second.err;
  Json report = ParseReport(second);
  EXPECT_EQ(report["verdict"], "broken_evidence");
  EXPECT_EQ(report["failure_class"], "broken_evidence_chain");
  EXPECT_THAT(report["reason"].get<std::string>(), StartsWith("nonce: "));
  EXPECT_THAT(report["reason"].get<std::string>(), HasSubstr("already used"));
}

// Evidence is judged whatever its size: a file over the limit is broken
// evidence (exit 3) like any other that does not parse, not a usage error.
// Such a bundle spends no nonce (docs/verifier-cli.md): the genuine bundle
// still verifies afterwards with the same state.
TEST_F(VerifyE2eTest, OversizedOrUnparsableEvidenceIsBrokenAndSpendsNoNonce) {
  const std::string state = FreshState("unparsable");
  absl::StatusOr<std::string> genuine = ReadFile(s().nv_evidence);
  ASSERT_TRUE(genuine.ok()) << genuine.status();
  struct Bad {
    std::string name;
    std::string text;
    const char* reason;
  };
  std::vector<Bad> bad = {
      {"truncated", genuine->substr(0, genuine->size() / 2), "malformed JSON"},
      {"limit", std::string(kMaxEvidenceBytes, ' '), "malformed JSON"},
  };
  for (size_t size : {kMaxEvidenceBytes + 1, kMaxEvidenceBytes + 2, 3 * kMaxEvidenceBytes}) {
    bad.push_back({absl::StrCat(size, " bytes"), *genuine + std::string(size - genuine->size(), ' '),
                   "evidence is larger than 4 MiB"});
  }
  for (const Bad& b : bad) {
    const std::string path = s().dir.Path(absl::StrCat("bad-", b.text.size(), ".json"));
    ASSERT_TRUE(WriteFile(path, b.text).ok());
    ProcessResult r = Fdattest({"verify", path, "--policy", s().policy, "--ak", s().nv_ak,
                                "--state", state, "--tpm-ca", s().tpm_ca, "--json"});
    EXPECT_EQ(r.exit_code, 3) << b.name << "\n" << r.out << r.err;
    Json report = ParseReport(r);
    EXPECT_EQ(report["verdict"], "broken_evidence") << b.name;
    EXPECT_THAT(report.value("reason", ""), StartsWith("evidence: ")) << b.name;
    EXPECT_THAT(report.value("reason", ""), HasSubstr(b.reason)) << b.name;
    EXPECT_FALSE(report.contains("evidence_sha256")) << b.name << ": no identity without a parse";
  }
  ProcessResult r = Fdattest({"verify", s().nv_evidence, "--policy", s().policy, "--ak", s().nv_ak,
                              "--state", state, "--tpm-ca", s().tpm_ca, "--json"});
  EXPECT_EQ(r.exit_code, 0) << "the nonce was spent by a bundle that did not parse\n"
                            << r.out << r.err;
}

TEST_F(VerifyE2eTest, FirstContactWithAnAttesterIsAffirmingAndSetsTheBaseline) {
  // The priming verifications of the suite: the state has never seen this
  // attester; the fresh nonce excludes a replay, so nothing is missing, and
  // the signed counters become the baseline the second launch is held to.
  for (const ProcessResult* r : {&s().nv_priming, &s().pcr_priming}) {
    EXPECT_EQ(r->exit_code, 0) << r->out << r->err;
    Json report = ParseReport(*r);
    EXPECT_EQ(report["verdict"], "affirming") << FailingRule(report);
    bool saw_r11 = false;
    for (const Json& rule : report["rules"]) {
      if (rule["id"] != "R11") continue;
      saw_r11 = true;
      EXPECT_THAT(rule["reason"].get<std::string>(),
                  HasSubstr("first attestation seen from this attester"));
    }
    EXPECT_TRUE(saw_r11);
  }
  EXPECT_THAT(s().state_after_priming, HasSubstr("\"attesters\":{\"000b"));
}

TEST_F(VerifyE2eTest, WithoutANonceTheVerdictIsAWarningNamingTheNonce) {
  ProcessResult r = Fdattest({"verify", s().nv_evidence, "--policy", s().policy, "--ak", s().nv_ak,
                              "--tpm-ca", s().tpm_ca, "--json"});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  Json report = ParseReport(r);
  EXPECT_EQ(report["verdict"], "warning");
  EXPECT_EQ(report["failure_class"], "");
  EXPECT_THAT(report["reason"].get<std::string>(), HasSubstr("nonce"));
  bool nonce_step_not_checked = false;
  for (const Json& step : report["steps"]) {
    if (step["step"] == "nonce") nonce_step_not_checked = step["outcome"] == "not_checked";
  }
  EXPECT_TRUE(nonce_step_not_checked) << report.dump(2);
}

TEST_F(VerifyE2eTest, AnotherExecutableThanThePolicyNamesIsContraindicated) {
  ProcessResult r =
      Fdattest({"verify", s().nv_evidence, "--policy", s().policy_wrong_exe, "--ak", s().nv_ak,
                "--nonce", s().nv_nonce_hex, "--tpm-ca", s().tpm_ca, "--json"});
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  Json report = ParseReport(r);
  EXPECT_EQ(report["verdict"], "contraindicated");
  EXPECT_EQ(report["failure_class"], "policy_violation");
  const std::string reason = report["reason"].get<std::string>();
  EXPECT_TRUE(absl::StartsWith(reason, "R10 ") || absl::StartsWith(reason, "R13 ")) << reason;
  EXPECT_THAT(reason, HasSubstr(s().busybox_sha256));
  for (const Json& rule : report["rules"]) {
    if (rule["id"] == "R10" || rule["id"] == "R13") {
      EXPECT_EQ(rule["outcome"], "fail") << rule.dump();
      EXPECT_EQ(rule["fatal"], true);
    }
  }
}

TEST_F(VerifyE2eTest, UsageAndConfigurationErrorsExitFour) {
  const std::vector<std::vector<std::string>> cases = {
      {"verify", s().nv_evidence, "--ak", s().nv_ak},  // no --policy
      {"verify", s().nv_evidence, "--policy", s().policy, "--ak", s().nv_ak, "--no-such-flag"},
      {"verify", s().nv_evidence, "--policy", s().policy, "--ak", s().nv_ak, "--state",
       FreshState("usage"), "--nonce", s().nv_nonce_hex},
      {"verify", s().nv_evidence, "--policy", s().policy, "--ak", s().nv_ak, "--ear-out",
       s().dir.Path("no-key.jwt")},
      {"verify", s().nv_evidence, "--policy", s().dir.Path("missing-policy.json"), "--ak",
       s().nv_ak},
      {"verify", s().nv_evidence, "--policy", s().policy, "--ak", s().policy},  // not an AK
      {"verify", s().nv_evidence, "--policy", s().policy, "--ak", s().nv_ak, "--nonce", "zz"},
      {"verify", s().dir.Path("missing-evidence.json"), "--policy", s().policy, "--ak",
       s().nv_ak},  // an evidence file that cannot be read
  };
  for (const std::vector<std::string>& args : cases) {
    ProcessResult r = Fdattest(args);
    EXPECT_EQ(r.exit_code, 4) << absl::StrJoin(args, " ") << "\n" << r.out << r.err;
  }
}

TEST_F(VerifyE2eTest, GenuinePcrEvidenceIsAffirming) {
  ProcessResult r =
      Fdattest({"verify", s().pcr_evidence, "--policy", s().policy, "--ak", s().pcr_ak, "--state",
                FreshState("pcr"), "--tpm-ca", s().tpm_ca, "--json"});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  Json report = ParseReport(r);
  EXPECT_EQ(report["verdict"], "affirming") << FailingRule(report);
  bool pcr_register = false;
  for (const Json& step : report["steps"]) {
    if (step["step"] == "evidence") {
      pcr_register = absl::StrContains(step["detail"].get<std::string>(),
                                       absl::StrCat("pcr:", kMeasurementPcr));
    }
  }
  EXPECT_TRUE(pcr_register) << report.dump(2);
  // And the NV attester's AK is not this one's.
  ProcessResult wrong_ak = Fdattest({"verify", s().pcr_evidence, "--policy", s().policy, "--ak",
                                     s().nv_ak, "--nonce", s().pcr_nonce_hex, "--json"});
  EXPECT_EQ(wrong_ak.exit_code, 3) << wrong_ak.out;
}

TEST_F(VerifyE2eTest, ExamplePolicyAsWrittenFailsOnlyOnTheMemoryOnlyOutput) {
  // See kMemoryOnlyOutputNote: with only per-run values patched, the example
  // demands an fscrypt policy for the phi-output file (R3, R7), and says the
  // tmpfs it sits on is not persisted, never encrypted. The audit log on disk
  // is durable. Every other rule passes.
  ProcessResult r =
      Fdattest({"verify", s().nv_evidence, "--policy", s().policy_as_written, "--ak", s().nv_ak,
                "--state", FreshState("as-written"), "--tpm-ca", s().tpm_ca, "--json"});
  Json report = ParseReport(r);
  for (const Json& rule : report["rules"]) {
    if (rule["id"] == "R3" || rule["id"] == "R7") {
      EXPECT_EQ(rule["outcome"], "fail") << rule.dump();
      EXPECT_THAT(rule["reason"].get<std::string>(),
                  HasSubstr("fd 1 (phi-output): writable file, tmpfs: not persisted"));
      EXPECT_THAT(rule["reason"].get<std::string>(), Not(HasSubstr("audit-log")));
    } else {
      EXPECT_EQ(rule["outcome"], "pass") << rule.dump();
    }
  }
  EXPECT_EQ(r.exit_code, 2) << r.out;
  EXPECT_THAT(report["reason"].get<std::string>(), StartsWith("R3 "));
}

}  // namespace
}  // namespace fdattest::e2e
