#include "verifier/verify.h"

#include <openssl/crypto.h>

#include <ctime>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/bpf.h"
#include "common/bpf_symbolic.h"
#include "common/cel.h"
#include "common/evidence.h"
#include "common/register.h"
#include "common/sha256.h"
#include "verifier/tpm_identity.h"

namespace fdattest {
namespace {

absl::string_view View(const Sha256Digest& d) {
  return absl::string_view(reinterpret_cast<const char*>(d.data()), d.size());
}

bool BytesEqual(absl::string_view a, absl::string_view b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::string FdSetsKey(const FdSets& fds) {
  std::string key;
  for (const auto& [tag, set] : {std::pair{'r', &fds.readable}, std::pair{'w', &fds.writable},
                                 std::pair{'a', &fds.append}}) {
    key += tag;
    for (int fd : *set) absl::StrAppend(&key, fd, ",");
  }
  absl::StrAppend(&key, "x", fds.exec_fd);
  return key;
}

// Records the steps of one run; the first failure of steps 1-6 ends it.
class Run {
 public:
  explicit Run(VerifyResult& result) : r_(result) {}

  void Pass(absl::string_view id, std::string detail) {
    r_.steps.push_back({std::string(id), StepReport::Outcome::kPass, std::move(detail)});
  }
  void NotChecked(absl::string_view id, std::string detail) {
    r_.steps.push_back({std::string(id), StepReport::Outcome::kNotChecked, std::move(detail)});
  }
  // Ends the run as a broken evidence chain.
  VerifyResult& Broken(absl::string_view id, const absl::Status& status) {
    return Broken(id, std::string(status.message()));
  }
  VerifyResult& Broken(absl::string_view id, std::string detail) {
    r_.steps.push_back({std::string(id), StepReport::Outcome::kFail, detail});
    r_.verdict = Verdict::kBrokenEvidence;
    r_.failure = FailureClass::kBrokenEvidenceChain;
    r_.reason = absl::StrCat(id, ": ", detail);
    // A broken chain establishes nothing about the workload.
    r_.manifest.reset();
    r_.counters.reset();
    r_.rules.clear();
    r_.trust_vector = {{"instance-identity", 99}};
    return r_;
  }

 private:
  VerifyResult& r_;
};

// Step 5: the served epoch replays to the certified value, and this launch's
// records are there, in full, manifest then separator.
absl::Status ReplayEventLog(const Evidence& e, const Sha256Digest& certified,
                            uint32_t certified_reset_count, uint32_t certified_restart_count) {
  if (e.event_log.empty()) return absl::InvalidArgumentError("the event log is empty");
  const CelRecord& first = e.event_log.front();
  if (first.redacted() || first.content->type != CelContent::Type::kEpoch) {
    return absl::InvalidArgumentError("the served log must begin with its epoch record");
  }
  CelReplay replay(e.reg, first.recnum);
  std::optional<uint64_t> manifest_at, separator_at;
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
    } else {
      separator_at = record.recnum;
    }
  }
  if (!DigestEqual(replay.value(), certified)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "the event log replays to ", HexEncode(replay.value()), " but the TPM certified ",
        HexEncode(certified)));
  }
  if (!DigestEqual(e.register_value, certified)) {
    return absl::InvalidArgumentError("register_value is not the certified value");
  }
  if (!manifest_at) {
    return absl::InvalidArgumentError(
        absl::StrCat("no launch_manifest record for launch ", e.launch_id, " in full"));
  }
  if (!separator_at) {
    return absl::InvalidArgumentError(absl::StrCat(
        "launch ", e.launch_id, " has no launch_separator: its measurement is not closed"));
  }
  const Epoch& epoch = *replay.epoch();
  if (epoch.reset_count != certified_reset_count) {
    return absl::InvalidArgumentError(absl::StrCat(
        "the epoch record says resetCount ", epoch.reset_count, " but the TPM signed ",
        certified_reset_count, ": the log is from another boot"));
  }
  if (epoch.restart_count > certified_restart_count) {
    return absl::InvalidArgumentError(absl::StrCat(
        "the epoch record's restartCount ", epoch.restart_count, " is ahead of the TPM's ",
        certified_restart_count));
  }
  return absl::OkStatus();
}

}  // namespace

// ---------------------------------------------------------------------------
// Filter proofs.

FdSets FdSetsOfManifest(const Manifest& manifest) {
  FdSets s;
  s.exec_fd = manifest.filter.exec_fd;
  for (const FdFingerprint& fp : manifest.fds) {
    if (fp.access == "r" || fp.access == "rw") s.readable.insert(fp.fd);
    if (fp.access == "w" || fp.access == "rw" || fp.access == "a") s.writable.insert(fp.fd);
    if (fp.access == "a") s.append.insert(fp.fd);
  }
  return s;
}

absl::StatusOr<std::vector<PropertyResult>> ProveFilter(absl::string_view bpf, const FdSets& fds) {
  ASSIGN_OR_RETURN(BpfProgram program, BpfProgram::Decode(bpf));
  ASSIGN_OR_RETURN(DecisionTable table, DecisionTable::Build(program));
  return CheckLauncherProperties(table, fds);
}

namespace {
absl::StatusOr<PropertyList> ProveShared(absl::string_view bpf, const FdSets& fds) {
  ASSIGN_OR_RETURN(std::vector<PropertyResult> proof, ProveFilter(bpf, fds));
  return std::make_shared<const std::vector<PropertyResult>>(std::move(proof));
}
}  // namespace

absl::StatusOr<PropertyList> FilterProofCache::Prove(absl::string_view bpf, const FdSets& fds) {
  // The bytes themselves (at most 32 KiB): comparing them costs less than
  // hashing them on every verification.
  const std::string key = absl::StrCat(FdSetsKey(fds), "/", bpf);
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = entries_.find(key);
    if (it != entries_.end()) {
      ++hits_;
      return it->second;
    }
    ++misses_;
  }
  // Proven outside the lock: two threads may prove the same filter once each.
  absl::StatusOr<PropertyList> result = ProveShared(bpf, fds);
  std::lock_guard<std::mutex> lock(mu_);
  if (entries_.size() >= max_entries_) entries_.erase(entries_.begin());
  entries_.emplace(key, result);
  return result;
}

size_t FilterProofCache::hits() const {
  std::lock_guard<std::mutex> lock(mu_);
  return hits_;
}

size_t FilterProofCache::misses() const {
  std::lock_guard<std::mutex> lock(mu_);
  return misses_;
}

// ---------------------------------------------------------------------------
// Identities.

absl::StatusOr<std::shared_ptr<const AkPublic>> IdentityCache::Ak(absl::string_view ak) {
  const std::string key(ak);  // a TPM2B_PUBLIC: ~100 bytes, cheaper to compare than to hash
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = aks_.find(key);
    if (it != aks_.end()) return it->second;
  }
  ASSIGN_OR_RETURN(AkPublic parsed, ParseAkPublic(ak));
  auto shared = std::make_shared<const AkPublic>(std::move(parsed));
  std::lock_guard<std::mutex> lock(mu_);
  if (aks_.size() >= max_entries_) aks_.erase(aks_.begin());
  aks_.emplace(key, shared);
  return shared;
}

absl::StatusOr<std::string> IdentityCache::EkBoundQualifiedName(absl::string_view ek_der,
                                                                absl::string_view ak,
                                                                absl::string_view ca_pem,
                                                                int64_t now) {
  // The inputs themselves (length-prefixed, a few KiB): comparing them costs
  // less than hashing them.
  const std::string key =
      absl::StrCat(ca_pem.size(), ":", ca_pem, ek_der.size(), ":", ek_der, ak);
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = bindings_.find(key);
    if (it != bindings_.end()) {
      if (now < it->second.not_before || now > it->second.not_after) {
        return absl::UnauthenticatedError(
            "EK certificate does not chain to a trusted TPM CA: certificate is not valid now");
      }
      return it->second.qualified_name;
    }
  }
  ASSIGN_OR_RETURN(CertifiedEk ek, CheckEkCertificate(ek_der, ca_pem));
  ASSIGN_OR_RETURN(std::string qn, AkQualifiedName(ek.ek_public, ak));
  std::lock_guard<std::mutex> lock(mu_);
  if (bindings_.size() >= max_entries_) bindings_.erase(bindings_.begin());
  bindings_[key] = {qn, ek.not_before, ek.not_after};
  return qn;
}

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
  Run run(result);
  if (request.anchors == nullptr || request.policy == nullptr) {
    return run.Broken("request", "no trust anchors or policy configured");
  }
  const TrustAnchors& anchors = *request.anchors;
  result.evidence_sha256 = HexEncode(Sha256(request.evidence));

  // 1. Parse.
  absl::StatusOr<Evidence> parsed = Evidence::Parse(request.evidence);
  if (!parsed.ok()) return run.Broken("evidence", parsed.status());
  const Evidence& e = *parsed;
  if (absl::Status s = CheckRegisterNotResettable(e.reg); !s.ok()) return run.Broken("evidence", s);
  result.nonce = e.nonce;
  result.launch_id = e.launch_id;
  result.manifest_sha256 = HexEncode(e.manifest_sha256);
  run.Pass("evidence", absl::StrCat("bundle of ", request.evidence.size(), " bytes, ",
                                    e.event_log.size(), " event-log records, register ",
                                    e.reg.ToString()));

  // 2. Nonce. The qualifying data is recomputed from the verifier's own nonce,
  // never taken from the bundle.
  std::optional<std::string> expected_nonce = request.expected_nonce;
  if (request.consume_nonce) {
    if (absl::Status s = request.consume_nonce(e.nonce); !s.ok()) return run.Broken("nonce", s);
    expected_nonce = e.nonce;
  }
  const std::string& nonce = expected_nonce ? *expected_nonce : e.nonce;
  if (expected_nonce) {
    if (!BytesEqual(e.nonce, *expected_nonce)) {
      return run.Broken("nonce", "the bundle's nonce is not the one this verifier issued");
    }
    run.Pass("nonce", "the nonce this verifier issued");
  } else {
    run.NotChecked("nonce", "no expected nonce: freshness is not established");
  }

  // 3. Identity.
  if (!BytesEqual(e.ak_public, anchors.ak_public)) {
    return run.Broken("identity", "the bundle's AK is not the enrolled AK");
  }
  IdentityCache local_identities;
  IdentityCache& identities =
      request.identity_cache != nullptr ? *request.identity_cache : local_identities;
  absl::StatusOr<std::shared_ptr<const AkPublic>> ak = identities.Ak(e.ak_public);
  if (!ak.ok()) return run.Broken("identity", ak.status());
  if (anchors.tpm_ca_pem.empty()) {
    run.NotChecked("ek", "no trusted TPM CA configured: the EK certificate is not checked");
  } else {
    absl::StatusOr<std::string> qn = identities.EkBoundQualifiedName(
        e.ek_certificate, e.ak_public, anchors.tpm_ca_pem, static_cast<int64_t>(std::time(nullptr)));
    if (!qn.ok()) return run.Broken("ek", qn.status());
    if (!BytesEqual(*qn, e.ak_qualified_name)) {
      return run.Broken("ek", "the AK's qualified name is not the one under the certified EK");
    }
    run.Pass("ek", "EK certificate chains to a trusted TPM CA; the AK is under that EK");
  }
  result.ak_name = HexEncode(e.ak_qualified_name);
  run.Pass("identity", absl::StrCat("enrolled AK, qualified name ", result.ak_name));

  // 4. The TPM's signed statement.
  const AttestKind kind =
      e.reg.kind == Register::Kind::kNvIndex ? AttestKind::kNvCertify : AttestKind::kPcrQuote;
  absl::StatusOr<ParsedAttest> attest = ParseAttest(e.attest, kind);
  if (!attest.ok()) return run.Broken("attestation", attest.status());
  absl::StatusOr<EcdsaSignature> signature = ParseSignature(e.signature);
  if (!signature.ok()) return run.Broken("attestation", signature.status());
  ExpectedAttestation expected;
  expected.kind = kind;
  expected.qualifying_data = std::string(View(EvidenceQualifyingData(nonce, e.manifest_sha256)));
  expected.qualified_signer = e.ak_qualified_name;
  expected.register_value = e.register_value;
  if (kind == AttestKind::kPcrQuote) {
    expected.pcr = static_cast<int>(e.reg.index);
  } else {
    absl::StatusOr<std::string> nv_name = MeasurementNvIndexName(e.reg.index);
    if (!nv_name.ok()) return run.Broken("attestation", nv_name.status());
    expected.nv_index_name = *nv_name;
  }
  absl::StatusOr<VerifiedAttestation> verified =
      CheckAttestation(*attest, *signature, **ak, expected);
  if (!verified.ok()) return run.Broken("attestation", verified.status());
  if (verified->counters.reset_count != e.reset_count ||
      verified->counters.restart_count != e.restart_count) {
    return run.Broken("attestation",
                      "the bundle's reset/restart counts are not the ones the TPM signed");
  }
  bool counters_checked = false;
  std::optional<TpmCounters> previous = request.previous_counters;
  if (!previous && request.previous_counters_of) previous = request.previous_counters_of(result.ak_name);
  if (previous) {
    if (absl::Status s = CheckCounters(*previous, verified->counters); !s.ok()) {
      return run.Broken("counters", s);
    }
    counters_checked = true;
    run.Pass("counters", "resetCount/restartCount/clock not behind this attester's last");
  }
  // First contact: nothing to compare with. A replay is the nonce's business
  // (step 2); the counters seen now become the attester's baseline.
  run.Pass("attestation",
           absl::StrCat(AttestKindName(kind), " signed by the AK; clock safe; resetCount ",
                        verified->counters.reset_count, ", restartCount ",
                        verified->counters.restart_count));

  // 5. Event log.
  if (absl::Status s = ReplayEventLog(e, verified->register_value, verified->counters.reset_count,
                                      verified->counters.restart_count);
      !s.ok()) {
    return run.Broken("event_log", s);
  }
  run.Pass("event_log", absl::StrCat("replays to the certified value; launch ", e.launch_id,
                                     " measured and closed"));

  // 6. Manifest.
  absl::StatusOr<Manifest> manifest = Manifest::Parse(e.manifest);
  if (!manifest.ok()) return run.Broken("manifest", manifest.status());
  if (manifest->launch_id != e.launch_id) {
    return run.Broken("manifest", "the manifest's launch_id is not the measured launch's");
  }
  if (!manifest->attested) {
    return run.Broken("manifest", "the manifest says it was not measured (attested: false)");
  }
  run.Pass("manifest", absl::StrCat("sha256 ", result.manifest_sha256, "; ",
                                    manifest->fds.size(), " declared fds"));
  result.manifest = *std::move(manifest);
  result.counters = verified->counters;

  // 7. The filter, proven from its bytes. A filter that measures fine but does
  // not confine the declared fds is the launcher's fault or a foreign
  // launcher: a policy matter (R0), not a broken chain.
  PolicyFacts facts;
  facts.manifest = &*result.manifest;
  facts.filter_sha256 = result.manifest->filter.verified_sha256;  // Manifest::Parse checked it
  const FdSets fds = FdSetsOfManifest(*result.manifest);
  absl::StatusOr<PropertyList> proof =
      request.cache != nullptr ? request.cache->Prove(result.manifest->filter.bpf, fds)
                               : ProveShared(result.manifest->filter.bpf, fds);
  if (!proof.ok()) {
    facts.filter_error = absl::StrCat("the filter cannot be analysed: ", proof.status().message());
    result.steps.push_back({"filter", StepReport::Outcome::kFail, facts.filter_error});
  } else {
    facts.filter_properties = *proof;
    result.filter_properties = *proof;
    size_t failed = 0;
    for (const PropertyResult& p : **proof) {
      if (!p.holds) {
        if (failed++ == 0) facts.filter_error = absl::StrCat(p.id, ": ", p.detail);
      }
    }
    facts.filter_proven = failed == 0;
    if (facts.filter_proven) {
      run.Pass("filter", absl::StrCat((*proof)->size(),
                                      " launcher properties proven for fds ",
                                      FdSetsKey(fds)));
    } else {
      result.steps.push_back({"filter", StepReport::Outcome::kFail,
                              absl::StrCat(failed, " properties fail; first ",
                                           facts.filter_error)});
    }
  }

  // 8. Policy.
  facts.nonce = expected_nonce ? PolicyFacts::Nonce::kFresh : PolicyFacts::Nonce::kNotChecked;
  facts.clock_safe = true;  // CheckAttestation refuses an unsafe clock
  facts.counters_checked = counters_checked;
  facts.reset_count = verified->counters.reset_count;
  facts.restart_count = verified->counters.restart_count;
  facts.ak_name_hex = result.ak_name;
  facts.registry = request.registry;
  result.rules = EvaluatePolicy(*request.policy, facts);
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
  // A step that could not be checked (no nonce, no TPM CA, first contact)
  // leaves the result short of affirming.
  for (const StepReport& step : result.steps) {
    if (step.outcome == StepReport::Outcome::kNotChecked) {
      if (!warn && !fatal) result.reason = absl::StrCat(step.id, ": ", step.detail);
      warn = true;
    }
  }
  // A genuine TPM only when its EK certificate was checked; otherwise no
  // claim (AR4SI 0, left out).
  if (!anchors.tpm_ca_pem.empty()) result.trust_vector["hardware"] = 2;
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
  return result;
}

// ---------------------------------------------------------------------------
// Reports.

Json ReportJson(const VerifyResult& r) {
  Json steps = Json::array();
  for (const StepReport& s : r.steps) {
    steps.push_back({{"step", s.id}, {"outcome", StepOutcomeName(s.outcome)}, {"detail", s.detail}});
  }
  Json rules = Json::array();
  for (const RuleResult& rule : r.rules) {
    rules.push_back({{"id", rule.id},
                     {"title", rule.title},
                     {"outcome", RuleOutcomeName(rule.outcome)},
                     {"reason", rule.reason},
                     {"fatal", rule.fatal},
                     {"hipaa", rule.citation.hipaa},
                     {"gdpr", rule.citation.gdpr}});
  }
  Json j = {{"verdict", VerdictName(r.verdict)},
            {"exit_code", VerdictExitCode(r.verdict)},
            {"failure_class", FailureClassName(r.failure)},
            {"reason", r.reason},
            {"evidence_sha256", r.evidence_sha256},
            {"steps", steps},
            {"rules", rules},
            {"trust_vector", r.trust_vector}};
  if (!r.launch_id.empty()) j["launch_id"] = r.launch_id;
  if (!r.manifest_sha256.empty()) j["manifest_sha256"] = r.manifest_sha256;
  if (!r.ak_name.empty()) j["ak_qualified_name"] = r.ak_name;
  if (r.manifest) j["exe_sha256"] = r.manifest->exe_sha256;
  return j;
}

std::string ReportText(const VerifyResult& r) {
  std::string out = absl::StrCat("verdict: ", VerdictName(r.verdict));
  if (r.failure != FailureClass::kNone) absl::StrAppend(&out, " (", FailureClassName(r.failure), ")");
  absl::StrAppend(&out, "\nreason: ", r.reason, "\n");
  if (!r.launch_id.empty()) absl::StrAppend(&out, "launch: ", r.launch_id, "\n");
  if (!r.manifest_sha256.empty()) absl::StrAppend(&out, "manifest sha256: ", r.manifest_sha256, "\n");
  absl::StrAppend(&out, "evidence sha256: ", r.evidence_sha256, "\n\nevidence chain:\n");
  for (const StepReport& s : r.steps) {
    absl::StrAppend(&out, "  ", StepOutcomeName(s.outcome), "\t", s.id, ": ", s.detail, "\n");
  }
  if (!r.rules.empty()) absl::StrAppend(&out, "\ndata-flow rules:\n");
  for (const RuleResult& rule : r.rules) {
    absl::StrAppend(&out, "  ", RuleOutcomeName(rule.outcome), rule.fatal ? " (fatal)" : "", "\t",
                    rule.id, " ", rule.title, ": ", rule.reason, "\n\t\t[");
    if (!rule.citation.hipaa.empty()) absl::StrAppend(&out, "HIPAA ", rule.citation.hipaa);
    if (!rule.citation.hipaa.empty() && !rule.citation.gdpr.empty()) absl::StrAppend(&out, "; ");
    if (!rule.citation.gdpr.empty()) absl::StrAppend(&out, "GDPR ", rule.citation.gdpr);
    absl::StrAppend(&out, "]\n");
  }
  return out;
}

EarInput MakeEarInput(const VerifyResult& r, const Policy& policy, int64_t now,
                      int64_t lifetime_seconds) {
  EarInput in;
  switch (r.verdict) {
    case Verdict::kAffirming: in.status = EarStatus::kAffirming; break;
    case Verdict::kWarning: in.status = EarStatus::kWarning; break;
    case Verdict::kContraindicated:
    case Verdict::kBrokenEvidence: in.status = EarStatus::kContraindicated; break;
  }
  in.trust_vector = r.trust_vector;
  in.policy_ids = {policy.id};
  in.nonce = r.nonce;
  in.issued_at = now;
  in.expires_at = lifetime_seconds > 0 ? now + lifetime_seconds : 0;
  in.verifier_build = "fdattest verify";
  Json rules = Json::object();
  for (const RuleResult& rule : r.rules) rules[rule.id] = RuleOutcomeName(rule.outcome);
  in.private_claims = {{"verdict", VerdictName(r.verdict)},
                       {"failure_class", FailureClassName(r.failure)},
                       {"reason", r.reason},
                       {"rules", rules},
                       {"evidence_sha256", r.evidence_sha256},
                       {"policy_sha256", policy.text_sha256}};
  if (!r.manifest_sha256.empty() && r.failure != FailureClass::kBrokenEvidenceChain) {
    in.private_claims["manifest_sha256"] = r.manifest_sha256;
    in.private_claims["launch_id"] = r.launch_id;
  }
  return in;
}

}  // namespace fdattest
