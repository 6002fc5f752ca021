// The verifier pipeline (verifier/verify.h) on the attestor's observation
// records: step 5 requires the launch's load observation, step 6b holds it
// against the manifest, rule R13 takes the launcher from it and rule R11
// tells a fresh launch from a fresh re-observation. The evidence is genuine
// TPM evidence of a log this test writes itself, as a lying or careless
// attestor could: a private swtpm, the attestor's own AK and NV register
// (attestor/), records extended one by one and certified on the verifier's
// nonce. The manifest is a genuine one (the evidence fuzzer's seed bundle),
// under a new launch id per case; the observations are made up from it
// (verifier/testing/matching_observation.h) and then made to lie.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>
#include <functional>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "attestor/tpm_context.h"
#include "attestor/tpm_keys.h"
#include "attestor/tpm_register.h"
#include "common/base64.h"
#include "common/cel.h"
#include "common/evidence.h"
#include "common/file_io.h"
#include "common/json.h"
#include "common/manifest.h"
#include "common/observation.h"
#include "common/sha256.h"
#include "tests/support/seed_bundles.h"
#include "tests/support/swtpm.h"
#include "verifier/policy.h"
#include "verifier/testing/matching_observation.h"
#include "verifier/verify.h"

namespace fdattest {
namespace {

using ::fdattest::testing::LoadObservationOf;
using ::fdattest::testing::MatchingObservation;
using ::fdattest::testing::Swtpm;
using ::testing::HasSubstr;
using ::testing::Not;

// The launcher the attestor hashed (peer_exe_sha256) and the policy's
// reference launcher.
constexpr char kObservedLauncher[] =
    "7c499078c4a41d7104224bb7842023a981959e21e5f00a52dd5eb899fefa04fb";
constexpr char kForeignLauncher[] =
    "1111111111111111111111111111111111111111111111111111111111111111";

std::string Str(const Sha256Digest& d) { return std::string(d.begin(), d.end()); }

// A fresh random-looking 16-byte nonce, distinct per call.
std::string NewNonce() {
  static int n = 0;
  return Str(Sha256(absl::StrCat("observation_test nonce ", ++n))).substr(0, 16);
}

// The attestor side: one epoch of one register, records appended and
// extended in order, certified on demand.
struct Attester {
  std::unique_ptr<Swtpm> tpm;
  std::unique_ptr<EsysContext> ctx;
  std::unique_ptr<AttestationKey> ak;
  std::unique_ptr<NvRegister> nv;
  std::string ek_certificate;
  std::string ca_pem;
  std::vector<CelRecord> log;

  absl::Status Append(const CelContent& content) {
    CelRecord record = CelRecord::Make(log.size(), nv->reg(), content);
    RETURN_IF_ERROR(nv->Extend(record.digest));
    log.push_back(std::move(record));
    return absl::OkStatus();
  }

  // The bundle for `manifest` on `nonce`: the register certified now, and
  // the log as the attestor serves it to this launch (other launches'
  // records redacted). `more`: records appended after the certification and
  // still put into the bundle.
  absl::StatusOr<std::string> Bundle(const std::string& launch_id, absl::string_view manifest_bytes,
                                     absl::string_view nonce,
                                     const std::vector<CelContent>& more = {}) {
    Evidence e;
    e.nonce = std::string(nonce);
    e.manifest = std::string(manifest_bytes);
    e.manifest_sha256 = Sha256(manifest_bytes);
    e.qualifying_data = EvidenceQualifyingData(nonce, e.manifest_sha256);
    e.launch_id = launch_id;
    ASSIGN_OR_RETURN(e.register_value, nv->Read());
    ASSIGN_OR_RETURN(TpmAttestation certified, nv->Certify(*ak, Str(e.qualifying_data)));
    for (const CelContent& c : more) RETURN_IF_ERROR(Append(c));
    e.attest = certified.attest;
    e.signature = certified.signature;
    e.ak_public = ak->public_area();
    e.ak_qualified_name = ak->qualified_name();
    e.ek_certificate = ek_certificate;
    e.reg = nv->reg();
    ASSIGN_OR_RETURN(TpmClockInfo clock, ctx->ReadClock());
    e.reset_count = clock.reset_count;
    e.restart_count = clock.restart_count;
    for (const CelRecord& r : log) {
      const bool own = !r.content->BelongsToLaunch() || r.content->launch_id == launch_id;
      e.event_log.push_back(own ? r : r.Redacted());
    }
    return e.Serialize();
  }
};

Attester* attester = nullptr;

absl::StatusOr<std::unique_ptr<Attester>> StartAttester() {
  auto a = std::make_unique<Attester>();
  ASSIGN_OR_RETURN(a->tpm, Swtpm::Start());
  const std::string dir = absl::StrCat(a->tpm->dir(), "/attestor");
  if (mkdir(dir.c_str(), 0700) != 0) return ErrnoStatus("mkdir", errno);
  ASSIGN_OR_RETURN(a->ctx, EsysContext::Open({.tcti = a->tpm->tcti()}));
  ASSIGN_OR_RETURN(a->ak, AttestationKey::LoadOrCreate(*a->ctx, dir));
  ASSIGN_OR_RETURN(a->nv, NvRegister::Open(*a->ctx, dir, {}));
  ASSIGN_OR_RETURN(a->ek_certificate, ReadEkCertificate(*a->ctx));
  ASSIGN_OR_RETURN(std::string ca_path, Swtpm::CaCertPemPath());
  ASSIGN_OR_RETURN(a->ca_pem, ReadFileLimited(ca_path, 1 << 20));
  ASSIGN_OR_RETURN(TpmClockInfo clock, a->ctx->ReadClock());
  RETURN_IF_ERROR(a->Append(CelContent::Epoch(clock.reset_count, clock.restart_count)));
  return a;
}

// How a case's launch is recorded.
struct LaunchPlan {
  std::string load_nonce;  // the nonce the launch was given ("" none)
  std::string launcher = kObservedLauncher;
  // The load observation; nullopt: "not observed".
  std::optional<KernelObservation> observation;
  std::string not_observed;
  bool record_load = true;
  // Alive observations after the separator: nonce and observation.
  std::vector<std::pair<std::string, KernelObservation>> alive;
};

class ObservationEvidenceTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    absl::StatusOr<std::unique_ptr<Attester>> a = StartAttester();
    ASSERT_TRUE(a.ok()) << a.status();
    attester = std::move(*a).release();
  }
  static void TearDownTestSuite() {
    delete attester;
    attester = nullptr;
  }

  void SetUp() override {
    ASSERT_NE(attester, nullptr);
    std::ifstream in(std::string(FDATTEST_SOURCE_DIR) +
                         "/tests/fuzz/corpus/evidence/genuine_nv_first.json",
                     std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    absl::StatusOr<Evidence> seed = Evidence::Parse(ss.str());
    ASSERT_TRUE(seed.ok()) << seed.status();
    absl::StatusOr<Manifest> m = Manifest::Parse(seed->manifest);
    ASSERT_TRUE(m.ok()) << m.status();
    manifest_ = *std::move(m);
    // A launch id of its own per case: one manifest per launch in the log.
    static int launches = 0;
    manifest_.launch_id = HexEncode(Sha256(absl::StrCat("launch ", ++launches))).substr(0, 32);
    manifest_.launcher_sha256 = kObservedLauncher;
    anchors_.ak_public = attester->ak->public_area();
    anchors_.tpm_ca_pem = attester->ca_pem;
    policy_json_ = *ParseJsonStrict(::fdattest::testing::kSeedPolicy);
    policy_json_["workload"]["launcher_sha256"] = Json::array({kObservedLauncher});
  }

  // The manifest's exact bytes as the launcher measures them.
  std::string ManifestBytes() const {
    absl::StatusOr<std::string> bytes = CanonicalJson(manifest_.ToJson());
    EXPECT_TRUE(bytes.ok()) << bytes.status();
    return bytes.value_or("");
  }

  // Records the launch as `plan` says and returns the bundle on `nonce`.
  std::string Record(const LaunchPlan& plan, absl::string_view nonce,
                     const std::vector<CelContent>& after_certification = {}) {
    return RecordBytes(ManifestBytes(), manifest_.launch_id, plan, nonce, after_certification);
  }
  // The same for any manifest bytes, measured under `launch_id`.
  std::string RecordBytes(const std::string& bytes, const std::string& launch_id,
                          const LaunchPlan& plan, absl::string_view nonce,
                          const std::vector<CelContent>& after_certification = {}) {
    auto must = [](absl::StatusOr<CelContent> c) {
      EXPECT_TRUE(c.ok()) << c.status();
      return c.value_or(CelContent{});
    };
    EXPECT_TRUE(attester->Append(must(CelContent::LaunchManifest(launch_id, bytes))).ok());
    if (plan.record_load) {
      EXPECT_TRUE(attester
                      ->Append(must(CelContent::LaunchObservation(
                          launch_id, CelContent::ObservationKind::kLoad,
                          plan.load_nonce, plan.launcher, plan.observation, plan.not_observed)))
                      .ok());
    }
    EXPECT_TRUE(attester->Append(must(CelContent::LaunchSeparator(launch_id))).ok());
    for (const auto& [alive_nonce, observation] : plan.alive) {
      EXPECT_TRUE(attester
                      ->Append(must(CelContent::LaunchObservation(
                          launch_id, CelContent::ObservationKind::kAlive, alive_nonce,
                          kObservedLauncher, observation, "")))
                      .ok());
    }
    absl::StatusOr<std::string> bundle =
        attester->Bundle(launch_id, bytes, nonce, after_certification);
    EXPECT_TRUE(bundle.ok()) << bundle.status();
    return bundle.value_or("");
  }

  // A launch observed as the manifest says, on `load_nonce`.
  LaunchPlan Honest(const std::string& load_nonce) {
    LaunchPlan plan;
    plan.load_nonce = load_nonce;
    plan.observation = MatchingObservation(manifest_);
    return plan;
  }

  VerifyResult Run(const std::string& bundle, const std::string& nonce) {
    absl::StatusOr<Policy> policy = Policy::Parse(policy_json_.dump());
    EXPECT_TRUE(policy.ok()) << policy.status();
    policy_.emplace(policy.value_or(Policy{}));
    VerifyRequest request;
    request.evidence = bundle;
    request.anchors = &anchors_;
    request.policy = &*policy_;
    request.expected_nonce = nonce;
    return Verify(request);
  }

  static const StepReport* Step(const VerifyResult& r, const std::string& id) {
    for (const StepReport& s : r.steps) {
      if (s.id == id) return &s;
    }
    return nullptr;
  }
  static const RuleResult* Rule(const VerifyResult& r, const std::string& id) {
    for (const RuleResult& rule : r.rules) {
      if (rule.id == id) return &rule;
    }
    return nullptr;
  }

  // The run ended as a broken chain at `step`, whose detail names `what`.
  static void ExpectBrokenAt(const VerifyResult& r, const std::string& step,
                             const std::vector<std::string>& what) {
    EXPECT_EQ(r.verdict, Verdict::kBrokenEvidence) << r.reason;
    EXPECT_EQ(r.failure, FailureClass::kBrokenEvidenceChain);
    ASSERT_FALSE(r.steps.empty());
    EXPECT_EQ(r.steps.back().id, step) << r.reason;
    EXPECT_EQ(r.steps.back().outcome, StepReport::Outcome::kFail);
    for (const std::string& w : what) EXPECT_THAT(r.steps.back().detail, HasSubstr(w));
    EXPECT_TRUE(r.rules.empty());
    EXPECT_EQ(r.freshness, "");
  }

  Manifest manifest_;
  TrustAnchors anchors_;
  Json policy_json_;
  std::optional<Policy> policy_;
};

// --- the chain -----------------------------------------------------------------------

TEST_F(ObservationEvidenceTest, HonestObservedLaunchHasAnIntactChainAndIsLaunchFresh) {
  const std::string nonce = NewNonce();
  VerifyResult r = Run(Record(Honest(nonce), nonce), nonce);
  ASSERT_NE(r.verdict, Verdict::kBrokenEvidence) << r.reason;
  const StepReport* observation = Step(r, "observation");
  ASSERT_NE(observation, nullptr);
  EXPECT_EQ(observation->outcome, StepReport::Outcome::kPass) << observation->detail;
  EXPECT_THAT(observation->detail, HasSubstr("the kernel showed what the manifest claims"));
  // Right after the manifest, before the filter.
  ASSERT_GE(r.steps.size(), 2u);
  EXPECT_EQ(r.steps[r.steps.size() - 3].id, "manifest");
  EXPECT_EQ(r.steps[r.steps.size() - 2].id, "observation");
  EXPECT_EQ(r.freshness, "launch");
  ASSERT_NE(Rule(r, "R11"), nullptr);
  EXPECT_EQ(Rule(r, "R11")->outcome, RuleOutcome::kPass) << Rule(r, "R11")->reason;
  ASSERT_NE(Rule(r, "R13"), nullptr);
  EXPECT_THAT(Rule(r, "R13")->reason, Not(HasSubstr("not observed")));
  EXPECT_THAT(Rule(r, "R13")->reason, Not(HasSubstr("not a reference launcher")));
}

TEST_F(ObservationEvidenceTest, LaunchWithoutLoadObservationIsABrokenChain) {
  const std::string nonce = NewNonce();
  LaunchPlan plan = Honest(nonce);
  plan.record_load = false;
  ExpectBrokenAt(Run(Record(plan, nonce), nonce), "event_log", {"observation"});
}

TEST_F(ObservationEvidenceTest, RedactedLoadObservationIsABrokenChain) {
  // The record is in the register but served without its content: the
  // verifier cannot read what the attestor saw.
  const std::string nonce = NewNonce();
  Json bundle = *ParseJsonStrict(Record(Honest(nonce), nonce));
  bool redacted = false;
  for (Json& r : bundle["event_log"]) {
    if (r.contains("content") && r["content"]["type"] == "launch_observation") {
      r.erase("content");
      r["redacted"] = true;
      redacted = true;
    }
  }
  ASSERT_TRUE(redacted);
  ExpectBrokenAt(Run(*CanonicalJson(bundle), nonce), "event_log", {"observation"});
}

// Each lie of a launcher that a (careless or colluding) attestor recorded
// anyway: the verifier holds the observation against the manifest itself.
TEST_F(ObservationEvidenceTest, ObservationContradictingTheManifestIsABrokenChainNamingTheField) {
  ASSERT_FALSE(manifest_.fds.empty());
  struct Lie {
    const char* name;
    std::function<void(KernelObservation&)> edit;
    std::string field;  // what the step's detail must name
  };
  const std::vector<Lie> lies = {
      {"other filter bytes",
       [](KernelObservation& o) { o.filter_sha256 = {std::string(64, 'a')}; },
       "filters[0].sha256: manifest "},
      {"a second filter",
       [](KernelObservation& o) { o.filter_sha256.push_back(std::string(64, 'b')); },
       "filters: manifest 1 installed, kernel 2 installed"},
      {"an undeclared fd",
       [&](KernelObservation& o) {
         ObservedFd extra = o.fds.back();
         extra.fd = 9;
         o.fds.push_back(extra);
       },
       "fd 9: open (kernel) but not declared"},
      {"another inode", [](KernelObservation& o) { o.fds.front().ino += 1; }, ".ino: manifest "},
      {"another open mode",
       [](KernelObservation& o) {
         o.fds.front().open_mode = o.fds.front().open_mode == "rw" ? "r" : "rw";
       },
       ".open_mode: manifest "},
      {"no no_new_privs", [](KernelObservation& o) { o.no_new_privs = false; },
       "no_new_privs: manifest true, kernel false"},
      {"a capability", [](KernelObservation& o) { o.cap_bounding = 1ull << 21; },
       "caps.bounding: manifest 0000000000000000, kernel 0000000000200000"},
      {"another executable",
       [](KernelObservation& o) { o.exe_sha256 = std::string(64, 'c'); },
       "exe_sha256: manifest "},
  };
  for (const Lie& lie : lies) {
    SCOPED_TRACE(lie.name);
    SetUp();  // a new launch id
    const std::string nonce = NewNonce();
    LaunchPlan plan = Honest(nonce);
    lie.edit(*plan.observation);
    ExpectBrokenAt(Run(Record(plan, nonce), nonce), "observation",
                   {"the attestor recorded an observation that contradicts the manifest",
                    lie.field});
  }
}

TEST_F(ObservationEvidenceTest, AliveObservationThatChangedIsABrokenChain) {
  const std::string load_nonce = NewNonce(), nonce = NewNonce();
  LaunchPlan plan = Honest(load_nonce);
  KernelObservation changed = MatchingObservation(manifest_);
  changed.filter_sha256.push_back(std::string(64, 'd'));
  plan.alive.emplace_back(nonce, changed);
  ExpectBrokenAt(Run(Record(plan, nonce), nonce), "observation",
                 {"alive observation that contradicts its load observation"});
}

// --- manifests an attestor should never have measured ---------------------------------
// (Before the attestor observed launches, any client of its socket could have
// any manifest bytes measured; these were tests/verifier/tamper_test.cc's
// hostile-launcher bundles. The verifier still refuses them from any log.)

// The manifest's filter with its first `ret #k` that is not
// SECCOMP_RET_ALLOW turned into one, bpf_base64 and sha256 kept consistent.
void LoosenFilter(Json& manifest) {
  std::string bpf = *Base64Decode(manifest["filter"]["bpf_base64"].get<std::string>());
  auto byte = [&](size_t i) { return static_cast<uint32_t>(static_cast<uint8_t>(bpf[i])); };
  for (size_t off = 0; off + 8 <= bpf.size(); off += 8) {
    const uint32_t code = byte(off) | byte(off + 1) << 8;
    const uint32_t k =
        byte(off + 4) | byte(off + 5) << 8 | byte(off + 6) << 16 | byte(off + 7) << 24;
    if (code == 0x06 /* BPF_RET | BPF_K */ && k != 0x7fff0000u /* SECCOMP_RET_ALLOW */) {
      bpf.replace(off + 4, 4, std::string("\x00\x00\xff\x7f", 4));
      break;
    }
  }
  manifest["filter"]["bpf_base64"] = Base64Encode(bpf);
  manifest["filter"]["sha256"] = HexEncode(Sha256(bpf));
}

TEST_F(ObservationEvidenceTest, MeasuredManifestThatDoesNotHoldIsABrokenChainAtTheManifest) {
  struct Hostile {
    const char* name;
    std::function<void(Json&)> edit;
    bool canonical = true;
    bool other_launch_id = false;
    std::string reason;
  };
  const std::vector<Hostile> cases = {
      {"a filter hash not of its bytes",
       [](Json& m) { m["filter"]["sha256"] = HexEncode(Sha256("not the filter's bytes")); }, true,
       false, "manifest.filter.sha256 is not the sha256 of its bytes"},
      {"another launch's manifest", [](Json&) {}, true, true, "launch_id is not the measured launch's"},
      {"an unattested manifest", [](Json& m) { m["attested"] = false; }, true, false,
       "attested: false"},
      {"a non-canonical manifest", [](Json&) {}, false, false, "manifest is not in canonical form"},
  };
  for (const Hostile& c : cases) {
    SCOPED_TRACE(c.name);
    SetUp();
    Json m = manifest_.ToJson();
    c.edit(m);
    const std::string bytes = c.canonical ? *CanonicalJson(m) : m.dump(2);
    const std::string launch_id =
        c.other_launch_id ? HexEncode(Sha256(manifest_.launch_id)).substr(0, 32)
                          : manifest_.launch_id;
    const std::string nonce = NewNonce();
    ExpectBrokenAt(Run(RecordBytes(bytes, launch_id, Honest(nonce), nonce), nonce), "manifest",
                   {c.reason});
  }
}

// What was measured and observed is judged from its bytes: a loosened filter,
// genuinely installed, is an intact chain refused by the filter proof (R0).
TEST_F(ObservationEvidenceTest, MeasuredLoosenedFilterIsContraindicatedByTheFilterProof) {
  Json m = manifest_.ToJson();
  LoosenFilter(m);
  const std::string bytes = *CanonicalJson(m);
  absl::StatusOr<Manifest> loosened = Manifest::Parse(bytes);
  ASSERT_TRUE(loosened.ok()) << loosened.status();
  manifest_ = *std::move(loosened);
  const std::string nonce = NewNonce();
  const VerifyResult r = Run(RecordBytes(bytes, manifest_.launch_id, Honest(nonce), nonce), nonce);
  EXPECT_EQ(r.verdict, Verdict::kContraindicated) << r.reason;
  EXPECT_EQ(r.failure, FailureClass::kPolicyViolation);
  ASSERT_NE(Step(r, "observation"), nullptr);
  EXPECT_EQ(Step(r, "observation")->outcome, StepReport::Outcome::kPass);
  ASSERT_NE(Step(r, "filter"), nullptr);
  EXPECT_EQ(Step(r, "filter")->outcome, StepReport::Outcome::kFail);
  ASSERT_NE(Rule(r, "R0"), nullptr);
  EXPECT_EQ(Rule(r, "R0")->outcome, RuleOutcome::kFail) << Rule(r, "R0")->reason;
  EXPECT_THAT(r.reason, ::testing::StartsWith("R0 ")) << r.reason;
}

// --- R13: not observed, and the observed launcher -------------------------------------

TEST_F(ObservationEvidenceTest, NotObservedPassesTheChainButFailsR13) {
  const std::string nonce = NewNonce();
  LaunchPlan plan;
  plan.load_nonce = nonce;
  plan.not_observed = "Yama ptrace_scope is 3";
  VerifyResult r = Run(Record(plan, nonce), nonce);
  ASSERT_NE(r.verdict, Verdict::kBrokenEvidence) << r.reason;
  const StepReport* observation = Step(r, "observation");
  ASSERT_NE(observation, nullptr);
  EXPECT_EQ(observation->outcome, StepReport::Outcome::kPass);
  EXPECT_THAT(observation->detail, HasSubstr("not observed by the attestor"));
  const RuleResult* r13 = Rule(r, "R13");
  ASSERT_NE(r13, nullptr);
  EXPECT_EQ(r13->outcome, RuleOutcome::kFail);
  EXPECT_THAT(r13->reason,
              HasSubstr("workload not observed by the attestor: Yama ptrace_scope is 3"));
  EXPECT_EQ(r.verdict, Verdict::kContraindicated);
}

TEST_F(ObservationEvidenceTest, R13NamesTheObservedLauncherNotTheManifestsClaim) {
  // A foreign launcher writes the reference launcher's digest into its
  // manifest; the attestor hashed the foreign one.
  const std::string nonce = NewNonce();
  LaunchPlan plan = Honest(nonce);
  plan.launcher = kForeignLauncher;
  VerifyResult r = Run(Record(plan, nonce), nonce);
  ASSERT_NE(r.verdict, Verdict::kBrokenEvidence) << r.reason;
  const RuleResult* r13 = Rule(r, "R13");
  ASSERT_NE(r13, nullptr);
  EXPECT_EQ(r13->outcome, RuleOutcome::kFail);
  EXPECT_THAT(r13->reason, HasSubstr(absl::StrCat("launcher ", kForeignLauncher,
                                                  " (observed) is not a reference launcher")));
  EXPECT_THAT(r13->reason, HasSubstr(absl::StrCat("the manifest claims ", kObservedLauncher)));
  EXPECT_EQ(r.verdict, Verdict::kContraindicated);
}

// --- R11: which freshness the nonce shows ---------------------------------------------

TEST_F(ObservationEvidenceTest, OnlyTheCertificationIsFreshFailsR11) {
  // Launched on another nonce, never re-observed, certified on this one.
  const std::string nonce = NewNonce();
  VerifyResult r = Run(Record(Honest(NewNonce()), nonce), nonce);
  ASSERT_NE(r.verdict, Verdict::kBrokenEvidence) << r.reason;
  EXPECT_EQ(r.freshness, "");
  const RuleResult* r11 = Rule(r, "R11");
  ASSERT_NE(r11, nullptr);
  EXPECT_EQ(r11->outcome, RuleOutcome::kFail);
  EXPECT_THAT(r11->reason, HasSubstr("only the certification is fresh"));
  EXPECT_EQ(r.verdict, Verdict::kContraindicated);
}

TEST_F(ObservationEvidenceTest, AliveObservationOnTheNonceIsAliveFreshness) {
  const std::string nonce = NewNonce();
  LaunchPlan plan = Honest(NewNonce());
  plan.alive.emplace_back(NewNonce(), MatchingObservation(manifest_));  // an older one
  plan.alive.emplace_back(nonce, MatchingObservation(manifest_));
  const std::string bundle = Record(plan, nonce);
  VerifyResult r = Run(bundle, nonce);
  ASSERT_NE(r.verdict, Verdict::kBrokenEvidence) << r.reason;
  EXPECT_EQ(r.freshness, "alive");
  EXPECT_EQ(Rule(r, "R11")->outcome, RuleOutcome::kPass) << Rule(r, "R11")->reason;
  // A policy that wants the launch itself after the nonce refuses it.
  policy_json_["freshness"] = "launch";
  VerifyResult launch = Run(bundle, nonce);
  EXPECT_EQ(launch.freshness, "alive");
  EXPECT_EQ(Rule(launch, "R11")->outcome, RuleOutcome::kFail);
  EXPECT_THAT(Rule(launch, "R11")->reason, HasSubstr("only the certification is fresh"));
}

TEST_F(ObservationEvidenceTest, PolicyRequiringAliveRefusesAFreshLaunch) {
  const std::string nonce = NewNonce();
  const std::string bundle = Record(Honest(nonce), nonce);
  policy_json_["freshness"] = "alive";
  VerifyResult r = Run(bundle, nonce);
  ASSERT_NE(r.verdict, Verdict::kBrokenEvidence) << r.reason;
  EXPECT_EQ(r.freshness, "launch");
  EXPECT_EQ(Rule(r, "R11")->outcome, RuleOutcome::kFail);
  EXPECT_THAT(Rule(r, "R11")->reason, HasSubstr("no alive observation"));
  policy_json_["freshness"] = "either";
  EXPECT_EQ(Rule(Run(bundle, nonce), "R11")->outcome, RuleOutcome::kPass);
}

TEST_F(ObservationEvidenceTest, AliveObservationOutsideTheCertifiedPrefixDoesNotCount) {
  // Certified on the nonce first, the alive observation bound to it appended
  // after: the signature does not cover it.
  const std::string nonce = NewNonce();
  absl::StatusOr<CelContent> late = CelContent::LaunchObservation(
      manifest_.launch_id, CelContent::ObservationKind::kAlive, nonce, kObservedLauncher,
      MatchingObservation(manifest_), "");
  ASSERT_TRUE(late.ok()) << late.status();
  ExpectBrokenAt(Run(Record(Honest(NewNonce()), nonce, {*late}), nonce), "event_log",
                 {"replays to"});
}

TEST_F(ObservationEvidenceTest, AnotherLaunchsAliveObservationDoesNotCount) {
  const std::string nonce = NewNonce();
  // Another launch, re-observed on the nonce.
  Manifest mine = manifest_;
  LaunchPlan other = Honest(NewNonce());
  other.alive.emplace_back(nonce, MatchingObservation(manifest_));
  Record(other, NewNonce());
  // This launch, launched earlier than the nonce, certified on it.
  manifest_.launch_id = HexEncode(Sha256(mine.launch_id)).substr(0, 32);
  VerifyResult r = Run(Record(Honest(NewNonce()), nonce), nonce);
  ASSERT_NE(r.verdict, Verdict::kBrokenEvidence) << r.reason;
  EXPECT_EQ(r.freshness, "");
  EXPECT_EQ(Rule(r, "R11")->outcome, RuleOutcome::kFail);
}

}  // namespace
}  // namespace fdattest
