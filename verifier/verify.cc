#include "verifier/verify.h"

#include <openssl/crypto.h>

#include <ctime>
#include <memory>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/cel.h"
#include "common/evidence.h"
#include "common/register.h"
#include "common/evidence_identity.h"
#include "common/observation.h"
#include "common/sha256.h"

namespace fdattest {
namespace {

absl::string_view View(const Sha256Digest& d) {
  return absl::string_view(reinterpret_cast<const char*>(d.data()), d.size());
}

bool BytesEqual(absl::string_view a, absl::string_view b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

StepReport Pass(absl::string_view id, std::string detail) {
  return {std::string(id), StepReport::Outcome::kPass, std::move(detail)};
}
StepReport NotChecked(absl::string_view id, std::string detail) {
  return {std::string(id), StepReport::Outcome::kNotChecked, std::move(detail)};
}
StepReport Fail(absl::string_view id, std::string detail) {
  return {std::string(id), StepReport::Outcome::kFail, std::move(detail)};
}
StepReport Fail(absl::string_view id, const absl::Status& status) {
  return Fail(id, std::string(status.message()));
}

// This launch's observation records in the certified log (step 5), pointing
// into the parsed bundle.
struct LaunchObservations {
  const CelContent* load = nullptr;
  std::vector<const CelContent*> alive;  // in log order
};

// What the steps of one run have established, for the steps after them. Each
// step reads the request and what earlier steps set, by reference: the bundle
// is parsed once and its bytes, fields and manifest are never copied.
struct Run {
  Run(const VerifyRequest& request, VerifyResult& result)
      : request(request), anchors(*request.anchors), result(result) {}
  IdentityCache& identities() {
    return request.identity_cache != nullptr ? *request.identity_cache : local_identities;
  }
  const Evidence& evidence() const { return *parsed; }

  const VerifyRequest& request;
  const TrustAnchors& anchors;
  VerifyResult& result;
  IdentityCache local_identities;  // when the request brings none
  std::optional<Evidence> parsed;               // 1
  const std::string* expected_nonce = nullptr;  // 2: the request's or the consumed one
  std::shared_ptr<const AkPublic> ak;           // 3a
  std::optional<VerifiedAttestation> attested;  // 4a
  bool counters_checked = false;                // 4b
  LaunchObservations observations;              // 5
  PolicyFacts facts;                            // 6b, 7
};

// ---------------------------------------------------------------------------
// The steps, in the order they run (verify.h). Each returns its report.

// 1. The bundle, parsed strictly; its identity.
StepReport StepEvidence(Run& run) {
  absl::StatusOr<Evidence> parsed = Evidence::Parse(run.request.evidence);
  if (!parsed.ok()) return Fail("evidence", parsed.status());
  const Evidence& e = run.parsed.emplace(*std::move(parsed));
  run.result.evidence_sha256 = HexEncode(EvidenceIdentity(e));
  if (absl::Status s = CheckRegisterNotResettable(e.reg); !s.ok()) return Fail("evidence", s);
  run.result.nonce = e.nonce;
  run.result.launch_id = e.launch_id;
  run.result.manifest_sha256 = HexEncode(e.manifest_sha256);
  return Pass("evidence", absl::StrCat("bundle of ", run.request.evidence.size(), " bytes, ",
                                       e.event_log.size(), " event-log records, register ",
                                       e.reg.ToString()));
}

// 2. The nonce. Step 4a recomputes the qualifying data from the verifier's
// own nonce, never from the bundle's.
StepReport StepNonce(Run& run) {
  const Evidence& e = run.evidence();
  if (run.request.expected_nonce) run.expected_nonce = &*run.request.expected_nonce;
  if (run.request.consume_nonce) {
    if (absl::Status s = run.request.consume_nonce(e.nonce); !s.ok()) return Fail("nonce", s);
    run.expected_nonce = &e.nonce;
  }
  if (run.expected_nonce == nullptr) {
    return NotChecked("nonce", "no expected nonce: freshness is not established");
  }
  if (!BytesEqual(e.nonce, *run.expected_nonce)) {
    return Fail("nonce", "the bundle's nonce is not the one this verifier issued");
  }
  return Pass("nonce", "the nonce this verifier issued");
}

// 3a. The enrolled AK, and an attestation key.
StepReport StepIdentity(Run& run) {
  const Evidence& e = run.evidence();
  if (run.request.enrolled_ak) {
    // The attester registry knows AKs by name; the name is only computed
    // from a public area that is an attestation key.
    absl::StatusOr<std::shared_ptr<const AkPublic>> ak = run.identities().Ak(e.ak_public);
    if (!ak.ok()) return Fail("identity", ak.status());
    absl::StatusOr<std::string> enrolled = run.request.enrolled_ak(HexEncode((*ak)->name));
    if (!enrolled.ok()) return Fail("identity", enrolled.status());
    if (!BytesEqual(e.ak_public, *enrolled)) {
      return Fail("identity", "the bundle's AK is not the enrolled AK");
    }
    run.ak = *std::move(ak);
    return Pass("identity", "the enrolled AK, with an attestation key's attributes");
  }
  if (!BytesEqual(e.ak_public, run.anchors.ak_public)) {
    return Fail("identity", "the bundle's AK is not the enrolled AK");
  }
  absl::StatusOr<std::shared_ptr<const AkPublic>> ak = run.identities().Ak(e.ak_public);
  if (!ak.ok()) return Fail("identity", ak.status());
  run.ak = *std::move(ak);
  return Pass("identity", "the enrolled AK, with an attestation key's attributes");
}

// 3b. The AK under a certified EK.
StepReport StepEk(Run& run) {
  const Evidence& e = run.evidence();
  const bool checked = !run.anchors.tpm_ca_pem.empty();
  if (checked) {
    absl::StatusOr<std::string> qn = run.identities().EkBoundQualifiedName(
        e.ek_certificate, e.ak_public, run.anchors.tpm_ca_pem,
        run.request.now ? *run.request.now : static_cast<int64_t>(std::time(nullptr)));
    if (!qn.ok()) return Fail("ek", qn.status());
    if (!BytesEqual(*qn, e.ak_qualified_name)) {
      return Fail("ek", "the AK's qualified name is not the one under the certified EK");
    }
  }
  // The attester is known by this name from here on (step 4b looks up its
  // counters by it; step 4a checks that the TPM signed as it).
  run.result.ak_name = HexEncode(e.ak_qualified_name);
  if (!checked) {
    return NotChecked("ek", "no trusted TPM CA configured: the EK certificate is not checked");
  }
  return Pass("ek", "EK certificate chains to a trusted TPM CA; the AK is under that EK");
}

// 4a. The TPM's signed statement.
StepReport StepAttestation(Run& run) {
  const Evidence& e = run.evidence();
  const AttestKind kind =
      e.reg.kind == Register::Kind::kNvIndex ? AttestKind::kNvCertify : AttestKind::kPcrQuote;
  absl::StatusOr<ParsedAttest> attest = ParseAttest(e.attest, kind);
  if (!attest.ok()) return Fail("attestation", attest.status());
  absl::StatusOr<EcdsaSignature> signature = ParseSignature(e.signature);
  if (!signature.ok()) return Fail("attestation", signature.status());
  const std::string& nonce = run.expected_nonce != nullptr ? *run.expected_nonce : e.nonce;
  ExpectedAttestation expected;
  expected.kind = kind;
  expected.qualifying_data = std::string(View(EvidenceQualifyingData(nonce, e.manifest_sha256)));
  expected.qualified_signer = e.ak_qualified_name;
  expected.register_value = e.register_value;
  if (kind == AttestKind::kPcrQuote) {
    expected.pcr = static_cast<int>(e.reg.index);
  } else {
    absl::StatusOr<std::string> nv_name = MeasurementNvIndexName(e.reg.index);
    if (!nv_name.ok()) return Fail("attestation", nv_name.status());
    expected.nv_index_name = *std::move(nv_name);
  }
  absl::StatusOr<VerifiedAttestation> verified =
      CheckAttestation(*attest, *signature, *run.ak, expected);
  if (!verified.ok()) return Fail("attestation", verified.status());
  if (verified->counters.reset_count != e.reset_count ||
      verified->counters.restart_count != e.restart_count) {
    return Fail("attestation", "the bundle's reset/restart counts are not the ones the TPM signed");
  }
  const VerifiedAttestation& v = run.attested.emplace(*std::move(verified));
  return Pass("attestation", absl::StrCat(AttestKindName(kind),
                                          " signed by the AK; clock safe; resetCount ",
                                          v.counters.reset_count, ", restartCount ",
                                          v.counters.restart_count));
}

// 4b. The signed counters against this attester's last. At first contact
// there is nothing to compare with: a replay is the nonce's business (step
// 2), and the counters seen now become the attester's baseline.
StepReport StepCounters(Run& run) {
  std::optional<TpmCounters> previous = run.request.previous_counters;
  if (!previous && run.request.previous_counters_of) {
    previous = run.request.previous_counters_of(run.result.ak_name);
  }
  if (!previous) {
    return Pass("counters",
                "first contact with this attester: its signed counters become its baseline");
  }
  if (absl::Status s = CheckCounters(*previous, run.attested->counters); !s.ok()) {
    return Fail("counters", s);
  }
  run.counters_checked = true;
  return Pass("counters", "resetCount/restartCount/clock not behind this attester's last");
}

// The served epoch replays to the certified value, and this launch's records
// are there, in full: manifest, load observation, separator, then any alive
// observations. Every record of the bundle is under the certification: a log
// that goes on past the certified value does not replay to it.
absl::Status ReplayEventLog(const Evidence& e, const VerifiedAttestation& certified,
                            LaunchObservations& observations) {
  if (e.event_log.empty()) return absl::InvalidArgumentError("the event log is empty");
  const CelRecord& first = e.event_log.front();
  if (first.redacted() || first.content->type != CelContent::Type::kEpoch) {
    return absl::InvalidArgumentError("the served log must begin with its epoch record");
  }
  CelReplay replay(e.reg, first.recnum);
  std::optional<uint64_t> manifest_at, load_at, separator_at;
  for (const CelRecord& record : e.event_log) {
    RETURN_IF_ERROR(replay.Apply(record));
    if (record.recnum != first.recnum && !record.redacted() &&
        record.content->type == CelContent::Type::kEpoch) {
      return absl::InvalidArgumentError(absl::StrCat(
          "record ", record.recnum, ": a second epoch record (only the current epoch is served)"));
    }
    if (record.redacted() || !record.content->BelongsToLaunch() ||
        record.content->launch_id != e.launch_id) {
      continue;
    }
    if (record.content->type == CelContent::Type::kLaunchManifest) {
      if (!DigestEqual(record.content->manifest_sha256, e.manifest_sha256)) {
        return absl::InvalidArgumentError(absl::StrCat(
            "record ", record.recnum, ": this launch's launch_manifest is another manifest's"));
      }
      manifest_at = record.recnum;
    } else if (record.content->type == CelContent::Type::kLaunchSeparator) {
      separator_at = record.recnum;
    } else if (record.content->type == CelContent::Type::kLaunchObservation) {
      // CelReplay orders a launch's records; this repeats what the
      // verifier relies on: one load, between manifest and separator, and
      // alive observations only after the separator.
      const bool load = record.content->observation_kind == CelContent::ObservationKind::kLoad;
      if (load ? (load_at || !manifest_at || separator_at) : !separator_at) {
        return absl::InvalidArgumentError(absl::StrCat(
            "record ", record.recnum, ": this launch's ", load ? "load" : "alive",
            " launch_observation is out of place"));
      }
      if (load) {
        load_at = record.recnum;
        observations.load = &*record.content;
      } else {
        observations.alive.push_back(&*record.content);
      }
    }
  }
  if (!DigestEqual(replay.value(), certified.register_value)) {
    return absl::InvalidArgumentError(absl::StrCat("the event log replays to ",
                                                   HexEncode(replay.value()), " but the TPM certified ",
                                                   HexEncode(certified.register_value)));
  }
  if (!DigestEqual(e.register_value, certified.register_value)) {
    return absl::InvalidArgumentError("register_value is not the certified value");
  }
  if (!manifest_at) {
    return absl::InvalidArgumentError(
        absl::StrCat("no launch_manifest record for launch ", e.launch_id, " in full"));
  }
  if (!load_at) {
    return absl::InvalidArgumentError(absl::StrCat(
        "no load launch_observation record for launch ", e.launch_id,
        " in full: the attestor's observation of the workload is missing"));
  }
  if (!separator_at) {
    return absl::InvalidArgumentError(absl::StrCat(
        "launch ", e.launch_id, " has no launch_separator: its measurement is not closed"));
  }
  const Epoch& epoch = *replay.epoch();
  if (epoch.reset_count != certified.counters.reset_count) {
    return absl::InvalidArgumentError(absl::StrCat(
        "the epoch record says resetCount ", epoch.reset_count, " but the TPM signed ",
        certified.counters.reset_count, ": the log is from another boot"));
  }
  if (epoch.restart_count > certified.counters.restart_count) {
    return absl::InvalidArgumentError(absl::StrCat(
        "the epoch record's restartCount ", epoch.restart_count, " is ahead of the TPM's ",
        certified.counters.restart_count));
  }
  return absl::OkStatus();
}

// 5. The event log.
StepReport StepEventLog(Run& run) {
  const Evidence& e = run.evidence();
  if (absl::Status s = ReplayEventLog(e, *run.attested, run.observations); !s.ok()) {
    return Fail("event_log", s);
  }
  return Pass("event_log",
              absl::StrCat("replays to the certified value; launch ", e.launch_id,
                           " measured, observed at load and closed; ",
                           run.observations.alive.size(), " alive observation(s)"));
}

// 6a. The manifest.
StepReport StepManifest(Run& run) {
  const Evidence& e = run.evidence();
  absl::StatusOr<Manifest> manifest = Manifest::Parse(e.manifest);
  if (!manifest.ok()) return Fail("manifest", manifest.status());
  if (manifest->launch_id != e.launch_id) {
    return Fail("manifest", "the manifest's launch_id is not the measured launch's");
  }
  if (!manifest->attested) {
    return Fail("manifest", "the manifest says it was not measured (attested: false)");
  }
  StepReport report = Pass("manifest", absl::StrCat("sha256 ", run.result.manifest_sha256, "; ",
                                                    manifest->fds.size(), " declared fds"));
  run.result.manifest = *std::move(manifest);
  run.result.counters = run.attested->counters;
  return report;
}

// Whether `nonce` is the one this verifier expects.
bool IsExpectedNonce(const Run& run, absl::string_view nonce) {
  return run.expected_nonce != nullptr && !nonce.empty() && BytesEqual(nonce, *run.expected_nonce);
}

// 6b. The attestor's load observation against the manifest, by the rule the
// attestor itself applied before recording it: a recorded contradiction
// means the attestor (or its log) is not to be believed. An alive
// observation must show the load's state. Not observed (the attestor ran
// with --allow-unobserved) passes here and fails rule R13.
StepReport StepObservation(Run& run) {
  const Manifest& manifest = *run.result.manifest;
  const CelContent& load = *run.observations.load;
  PolicyFacts& facts = run.facts;
  facts.launcher_sha256 = load.peer_exe_sha256;
  facts.launch_fresh = IsExpectedNonce(run, load.nonce);
  if (!load.observation) {
    facts.not_observed = load.not_observed.empty() ? "no reason given" : load.not_observed;
    return Pass("observation", absl::StrCat("not observed by the attestor: ", facts.not_observed,
                                            " (rule R13 fails)"));
  }
  if (absl::Status s = CheckObservationMatchesManifest(*load.observation, manifest); !s.ok()) {
    return Fail("observation",
                absl::StrCat("the attestor recorded an observation that contradicts the manifest: ",
                             s.message()));
  }
  size_t alive_observed = 0;
  for (const CelContent* alive : run.observations.alive) {
    if (!alive->observation) continue;  // says nothing about the workload
    if (absl::Status s = CheckObservationUnchanged(*alive->observation, *load.observation, manifest);
        !s.ok()) {
      return Fail("observation",
                  absl::StrCat("the attestor recorded an alive observation that contradicts its "
                               "load observation: ",
                               s.message()));
    }
    ++alive_observed;
    if (IsExpectedNonce(run, alive->nonce)) facts.alive_fresh = true;
  }
  facts.observed = true;
  return Pass("observation",
              absl::StrCat("the kernel showed what the manifest claims (one filter, ",
                           load.observation->fds.size(), " fds, the executable, the empty root); "
                           "launcher ", load.peer_exe_sha256, " (observed); ", alive_observed,
                           " alive observation(s) unchanged"));
}

// 7. The filter, proven from its bytes. A filter that measures fine but does
// not confine the declared fds is the launcher's fault or a foreign
// launcher's: a policy matter (R0), not a broken chain.
StepReport StepFilter(Run& run) {
  const Manifest& manifest = *run.result.manifest;
  PolicyFacts& facts = run.facts;
  facts.manifest = &manifest;
  facts.filter_sha256 = manifest.filter.verified_sha256;  // Manifest::Parse checked it
  const FdSets fds = FdSetsOfManifest(manifest);
  absl::StatusOr<PropertyList> proof = run.request.cache != nullptr
                                           ? run.request.cache->Prove(manifest.filter.bpf, fds)
                                           : ProveFilterShared(manifest.filter.bpf, fds);
  if (!proof.ok()) {
    facts.filter_error = absl::StrCat("the filter cannot be analysed: ", proof.status().message());
    return Fail("filter", facts.filter_error);
  }
  facts.filter_properties = *proof;
  run.result.filter_properties = *proof;
  size_t failed = 0;
  for (const PropertyResult& p : **proof) {
    if (!p.holds && failed++ == 0) facts.filter_error = absl::StrCat(p.id, ": ", p.detail);
  }
  facts.filter_proven = failed == 0;
  if (!facts.filter_proven) {
    return Fail("filter", absl::StrCat(failed, " properties fail; first ", facts.filter_error));
  }
  return Pass("filter", absl::StrCat((*proof)->size(), " launcher properties proven for fds ",
                                     FdSetsKey(fds)));
}

// 8. The policy's rules, then the verdict.
void StepPolicy(Run& run) {
  VerifyResult& result = run.result;
  PolicyFacts& facts = run.facts;
  facts.nonce =
      run.expected_nonce != nullptr ? PolicyFacts::Nonce::kFresh : PolicyFacts::Nonce::kNotChecked;
  facts.clock_safe = true;  // CheckAttestation refuses an unsafe clock
  facts.counters_checked = run.counters_checked;
  facts.reset_count = run.attested->counters.reset_count;
  facts.restart_count = run.attested->counters.restart_count;
  facts.ak_name_hex = result.ak_name;
  facts.registry = run.request.registry;
  result.freshness = facts.launch_fresh ? "launch" : facts.alive_fresh ? "alive" : "";
  result.rules = EvaluatePolicy(*run.request.policy, facts);
  result.trust_vector = TrustVectorFromRules(result.rules);

  bool fatal = false, warn = false;
  for (const RuleResult& rule : result.rules) {
    if (rule.fatal) {
      if (!fatal) result.reason = absl::StrCat(rule.id, " ", rule.title, ": ", rule.reason);
      fatal = true;
    } else if (rule.outcome != RuleOutcome::kPass) {
      if (!warn && !fatal) result.reason = absl::StrCat(rule.id, " ", rule.title, ": ", rule.reason);
      warn = true;
    }
  }
  // A step that could not be checked (no nonce, no TPM CA) leaves the result
  // short of affirming.
  for (const StepReport& step : result.steps) {
    if (step.outcome == StepReport::Outcome::kNotChecked) {
      if (!warn && !fatal) result.reason = absl::StrCat(step.id, ": ", step.detail);
      warn = true;
    }
  }
  // A genuine TPM only when its EK certificate was checked; otherwise no
  // claim (AR4SI 0, left out).
  if (!run.anchors.tpm_ca_pem.empty()) result.trust_vector["hardware"] = 2;
  if (fatal) {
    result.verdict = Verdict::kContraindicated;
    result.failure = FailureClass::kPolicyViolation;
  } else if (warn) {
    result.verdict = Verdict::kWarning;
    result.failure = FailureClass::kNone;
  } else {
    result.verdict = Verdict::kAffirming;
    result.failure = FailureClass::kNone;
    result.reason = "every step and every rule passed";
  }
}

// Ends a run at a failed step of 1-6: a broken evidence chain establishes
// nothing about the workload.
void EndBrokenChain(VerifyResult& result, StepReport failed) {
  result.verdict = Verdict::kBrokenEvidence;
  result.failure = FailureClass::kBrokenEvidenceChain;
  result.reason = absl::StrCat(failed.id, ": ", failed.detail);
  result.steps.push_back(std::move(failed));
  result.manifest.reset();
  result.counters.reset();
  result.rules.clear();
  result.trust_vector = {{"instance-identity", 99}};
}

}  // namespace

// ---------------------------------------------------------------------------
// Names.

absl::string_view VerdictName(Verdict verdict) {
  switch (verdict) {
    case Verdict::kAffirming: return "affirming";
    case Verdict::kWarning: return "warning";
    case Verdict::kContraindicated: return "contraindicated";
    case Verdict::kBrokenEvidence: return "broken_evidence";
  }
  return "broken_evidence";
}

int VerdictExitCode(Verdict verdict) {
  switch (verdict) {
    case Verdict::kAffirming: return 0;
    case Verdict::kWarning: return 1;
    case Verdict::kContraindicated: return 2;
    case Verdict::kBrokenEvidence: return 3;
  }
  return 3;
}

absl::string_view FailureClassName(FailureClass c) {
  switch (c) {
    case FailureClass::kNone: return "";
    case FailureClass::kBrokenEvidenceChain: return "broken_evidence_chain";
    case FailureClass::kPolicyViolation: return "policy_violation";
  }
  return "broken_evidence_chain";
}

absl::string_view StepOutcomeName(StepReport::Outcome outcome) {
  switch (outcome) {
    case StepReport::Outcome::kPass: return "pass";
    case StepReport::Outcome::kFail: return "fail";
    case StepReport::Outcome::kNotChecked: return "not_checked";
  }
  return "fail";
}

// ---------------------------------------------------------------------------
// The pipeline.

VerifyResult Verify(const VerifyRequest& request) {
  VerifyResult result;
  if (request.anchors == nullptr || request.policy == nullptr) {
    EndBrokenChain(result, Fail("request", "no trust anchors or policy configured"));
    return result;
  }
  Run run(request, result);
  // Steps 1-6, the evidence chain: the first failure ends the run.
  for (StepReport (*step)(Run&) : {StepEvidence, StepNonce, StepIdentity, StepEk, StepAttestation,
                                   StepCounters, StepEventLog, StepManifest, StepObservation}) {
    StepReport report = step(run);
    if (report.outcome == StepReport::Outcome::kFail) {
      EndBrokenChain(result, std::move(report));
      return result;
    }
    result.steps.push_back(std::move(report));
  }
  // Steps 7 and 8: what the intact chain says, judged.
  result.steps.push_back(StepFilter(run));
  StepPolicy(run);
  return result;
}

}  // namespace fdattest
