// Verifier throughput (docs/BENCHMARKS.md, "5. Verifier"): offline
// verifications of one genuine evidence bundle per second on one core,
// against ECDSA P-256 signature verifications per second measured in the
// same run (the baseline: a verification can hardly cost less than the one
// signature it must check). bench/verify_bench.sh makes the bundle on a
// private swtpm and runs this program pinned to one core.
//
//   verify_bench --evidence=FILE --ak=FILE --policy=FILE [--tpm-ca=FILE]
//                [--nonce=HEX] [Google Benchmark flags]
//
// Benchmarks:
//   BM_EcdsaP256Verify    EVP_DigestVerifyInit + EVP_DigestVerify (SHA-256)
//                         of a 200-byte message with a P-256 key: the baseline
//   BM_VerifyCached       Verify() with a warm FilterProofCache: the steady
//                         state of a verifier that has seen this job before
//   BM_VerifyUncached     Verify() without a cache: every filter proven again
//   BM_VerifyCachedNoTpmCa  as BM_VerifyCached without a trusted TPM CA (the
//                         EK certificate is not checked)
// and the parts of one Verify(), to show where its time goes:
//   BM_EvidenceIdentity, BM_EvidenceParse, BM_EkCertificateCheck,
//   BM_AttestationCheck, BM_EventLogReplay, BM_ManifestParse, BM_ProveFilter,
//   BM_EvaluatePolicy.
//
// Before anything is timed the bundle is verified once: the evidence chain
// must be intact (steps 1-6) and the filter proven, or the program exits 1,
// so a bundle refused early (and therefore fast) can never become a number.
// Every timed Verify() must reach the verdict of an untimed one before it.
#include <cstdio>
#include <cstdlib>
#include <initializer_list>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "benchmark/benchmark.h"
#include "common/cel.h"
#include "common/evidence.h"
#include "common/evidence_identity.h"
#include "common/file_io.h"
#include "common/manifest.h"
#include "common/openssl_ptr.h"
#include "common/sha256.h"
#include "verifier/policy.h"
#include "verifier/tpm_attest.h"
#include "verifier/tpm_identity.h"
#include "verifier/verify.h"

namespace fdattest {
namespace {

struct Inputs {
  std::string evidence;
  TrustAnchors anchors;
  TrustAnchors anchors_no_ca;
  Policy policy;
  std::optional<std::string> nonce;
  Evidence parsed;
  Manifest manifest;
  FdSets fds;
  PolicyFacts facts;  // as Verify() fills them for this bundle
  std::optional<TpmCounters> previous;
};

Inputs* g = nullptr;

[[noreturn]] void Die(absl::string_view what, absl::string_view why) {
  fprintf(stderr, "verify_bench: %.*s: %.*s\n", static_cast<int>(what.size()), what.data(),
          static_cast<int>(why.size()), why.data());
  exit(1);
}

VerifyRequest Request(const TrustAnchors& anchors, FilterProofCache* cache,
                      IdentityCache* identities = nullptr) {
  VerifyRequest r;
  r.evidence = g->evidence;
  r.anchors = &anchors;
  r.policy = &g->policy;
  r.expected_nonce = g->nonce;
  // A verifier that has seen this attester before (its counters are not
  // behind the last ones): the steady state, and rule R11 evaluable.
  r.previous_counters = g->previous;
  r.cache = cache;
  r.identity_cache = identities;
  return r;
}

void RunVerify(benchmark::State& state, const TrustAnchors& anchors, bool cached) {
  // "Cached": a verifier that has seen this job's filter and this attester
  // before (the filter proof and the AK/EK binding are reused).
  FilterProofCache cache;
  IdentityCache identities;
  const VerifyRequest request =
      Request(anchors, cached ? &cache : nullptr, cached ? &identities : nullptr);
  // Untimed: warms the cache and sets the verdict every run must reach (it
  // depends on the anchors: without a TPM CA the best is a warning).
  const VerifyResult reference = Verify(request);
  if (!reference.manifest) {
    state.SkipWithError("the evidence chain does not hold");
    return;
  }
  for (auto _ : state) {
    VerifyResult result = Verify(request);
    if (result.verdict != reference.verdict) {
      state.SkipWithError("Verify() reached another verdict");
      break;
    }
    benchmark::DoNotOptimize(result);
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_EcdsaP256Verify(benchmark::State& state) {
  EvpPkeyPtr key(EVP_EC_gen("P-256"));
  std::string message(200, '\0');
  for (size_t i = 0; i < message.size(); ++i) message[i] = static_cast<char>(i * 7 + 1);
  const auto* msg = reinterpret_cast<const unsigned char*>(message.data());
  EvpMdCtxPtr sign_ctx(EVP_MD_CTX_new());
  size_t sig_len = 0;
  std::string sig;
  if (!key || !sign_ctx ||
      EVP_DigestSignInit(sign_ctx.get(), nullptr, EVP_sha256(), nullptr, key.get()) != 1 ||
      EVP_DigestSign(sign_ctx.get(), nullptr, &sig_len, msg, message.size()) != 1) {
    state.SkipWithError("cannot sign");
    return;
  }
  sig.resize(sig_len);
  if (EVP_DigestSign(sign_ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &sig_len, msg,
                     message.size()) != 1) {
    state.SkipWithError("cannot sign");
    return;
  }
  sig.resize(sig_len);
  const auto* sig_bytes = reinterpret_cast<const unsigned char*>(sig.data());
  for (auto _ : state) {
    EvpMdCtxPtr ctx(EVP_MD_CTX_new());
    if (!ctx || EVP_DigestVerifyInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key.get()) != 1 ||
        EVP_DigestVerify(ctx.get(), sig_bytes, sig.size(), msg, message.size()) != 1) {
      state.SkipWithError("signature does not verify");
      break;
    }
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_VerifyCached(benchmark::State& state) { RunVerify(state, g->anchors, true); }
void BM_VerifyUncached(benchmark::State& state) { RunVerify(state, g->anchors, false); }
void BM_VerifyCachedNoTpmCa(benchmark::State& state) { RunVerify(state, g->anchors_no_ca, true); }

// The parts, each as Verify() does it.

void BM_EvidenceIdentity(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(HexEncode(EvidenceIdentity(g->parsed)));
  state.SetItemsProcessed(state.iterations());
}

void BM_EvidenceParse(benchmark::State& state) {
  for (auto _ : state) {
    absl::StatusOr<Evidence> e = Evidence::Parse(g->evidence);
    if (!e.ok()) {
      state.SkipWithError("parse failed");
      break;
    }
    benchmark::DoNotOptimize(e);
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_EkCertificateCheck(benchmark::State& state) {
  const Evidence& e = g->parsed;
  for (auto _ : state) {
    absl::StatusOr<CertifiedEk> ek = CheckEkCertificate(e.ek_certificate, g->anchors.tpm_ca_pem);
    absl::StatusOr<std::string> qn = ek.ok() ? AkQualifiedName(ek->ek_public, e.ak_public)
                                             : absl::StatusOr<std::string>(ek.status());
    if (!qn.ok() || *qn != e.ak_qualified_name) {
      state.SkipWithError("EK check failed");
      break;
    }
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_AttestationCheck(benchmark::State& state) {
  const Evidence& e = g->parsed;
  const AttestKind kind =
      e.reg.kind == Register::Kind::kNvIndex ? AttestKind::kNvCertify : AttestKind::kPcrQuote;
  const Sha256Digest qualifying = EvidenceQualifyingData(e.nonce, e.manifest_sha256);
  for (auto _ : state) {
    absl::StatusOr<AkPublic> ak = ParseAkPublic(e.ak_public);
    absl::StatusOr<ParsedAttest> attest = ParseAttest(e.attest, kind);
    absl::StatusOr<EcdsaSignature> signature = ParseSignature(e.signature);
    if (!ak.ok() || !attest.ok() || !signature.ok()) {
      state.SkipWithError("parse failed");
      break;
    }
    ExpectedAttestation expected;
    expected.kind = kind;
    expected.qualifying_data =
        std::string(reinterpret_cast<const char*>(qualifying.data()), qualifying.size());
    expected.qualified_signer = e.ak_qualified_name;
    expected.register_value = e.register_value;
    if (kind == AttestKind::kPcrQuote) {
      expected.pcr = static_cast<int>(e.reg.index);
    } else {
      expected.nv_index_name = *MeasurementNvIndexName(e.reg.index);
    }
    if (!CheckAttestation(*attest, *signature, *ak, expected).ok()) {
      state.SkipWithError("attestation check failed");
      break;
    }
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_EventLogReplay(benchmark::State& state) {
  const Evidence& e = g->parsed;
  for (auto _ : state) {
    CelReplay replay(e.reg, e.event_log.front().recnum);
    for (const CelRecord& record : e.event_log) {
      if (!replay.Apply(record).ok()) {
        state.SkipWithError("replay failed");
        return;
      }
    }
    benchmark::DoNotOptimize(replay.value());
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_ManifestParse(benchmark::State& state) {
  for (auto _ : state) {
    absl::StatusOr<Manifest> m = Manifest::Parse(g->parsed.manifest);
    if (!m.ok()) {
      state.SkipWithError("parse failed");
      break;
    }
    benchmark::DoNotOptimize(m);
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_ProveFilter(benchmark::State& state) {
  for (auto _ : state) {
    absl::StatusOr<std::vector<PropertyResult>> proof = ProveFilter(g->manifest.filter.bpf, g->fds);
    if (!proof.ok()) {
      state.SkipWithError("proof failed");
      break;
    }
    benchmark::DoNotOptimize(proof);
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_EvaluatePolicy(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(EvaluatePolicy(g->policy, g->facts));
  state.SetItemsProcessed(state.iterations());
}

std::string Flag(std::vector<std::string>& args, absl::string_view name, bool required) {
  const std::string prefix = absl::StrCat("--", name, "=");
  for (auto it = args.begin(); it != args.end(); ++it) {
    if (absl::StartsWith(*it, prefix)) {
      std::string value = it->substr(prefix.size());
      args.erase(it);
      return value;
    }
  }
  if (required) Die("usage", absl::StrCat("--", name, "=... is required"));
  return "";
}

std::string Read(const std::string& path, size_t max_bytes) {
  absl::StatusOr<std::string> bytes = ReadFileLimited(path, max_bytes);
  if (!bytes.ok()) Die(path, bytes.status().message());
  return *std::move(bytes);
}

void Load(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  g = new Inputs;
  g->evidence = Read(Flag(args, "evidence", true), kMaxEvidenceBytes);
  g->anchors.ak_public = Read(Flag(args, "ak", true), 4096);
  g->anchors_no_ca.ak_public = g->anchors.ak_public;
  const std::string policy_path = Flag(args, "policy", true);
  const std::string ca = Flag(args, "tpm-ca", false);
  if (!ca.empty()) g->anchors.tpm_ca_pem = Read(ca, 1 << 20);
  const std::string nonce = Flag(args, "nonce", false);
  if (!args.empty()) Die("usage", absl::StrCat("unknown argument ", args.front()));
  if (!nonce.empty()) {
    absl::StatusOr<std::string> raw = HexDecode(nonce);
    if (!raw.ok()) Die("--nonce", raw.status().message());
    g->nonce = *raw;
  }
  absl::StatusOr<Policy> policy = Policy::Load(policy_path);
  if (!policy.ok()) Die(policy_path, policy.status().message());
  g->policy = *std::move(policy);
  absl::StatusOr<Evidence> parsed = Evidence::Parse(g->evidence);
  if (!parsed.ok()) Die("evidence", parsed.status().message());
  g->parsed = *std::move(parsed);
  g->previous = TpmCounters{0, g->parsed.reset_count, g->parsed.restart_count};

  // The reference run: the chain must hold and the filter be proven.
  const VerifyResult result = Verify(Request(g->anchors, nullptr));
  if (result.failure == FailureClass::kBrokenEvidenceChain || !result.manifest) {
    Die("the bundle does not verify", result.reason);
  }
  for (const StepReport& step : result.steps) {
    if (step.outcome == StepReport::Outcome::kFail) Die("step failed", step.detail);
  }
  g->manifest = *result.manifest;
  g->fds = FdSetsOfManifest(g->manifest);
  g->facts.manifest = &g->manifest;
  g->facts.filter_proven = true;
  g->facts.filter_properties = result.filter_properties;
  g->facts.filter_sha256 = HexEncode(Sha256(g->manifest.filter.bpf));
  g->facts.nonce = g->nonce ? PolicyFacts::Nonce::kFresh : PolicyFacts::Nonce::kNotChecked;
  g->facts.clock_safe = true;
  g->facts.counters_checked = true;
  g->facts.reset_count = result.counters->reset_count;
  g->facts.restart_count = result.counters->restart_count;
  g->facts.ak_name_hex = result.ak_name;
  g->facts.observed = true;  // the observation step passed (no step failed)
  g->facts.launcher_sha256 = g->manifest.launcher_sha256;
  g->facts.launch_fresh = g->nonce && result.freshness == "launch";
  g->facts.alive_fresh = g->nonce && result.freshness == "alive";

  int not_passed = 0;
  for (const RuleResult& rule : result.rules) not_passed += rule.outcome != RuleOutcome::kPass;
  benchmark::AddCustomContext("verdict", std::string(VerdictName(result.verdict)));
  benchmark::AddCustomContext("reason", result.reason);
  benchmark::AddCustomContext("rules_not_passed", std::to_string(not_passed));
  benchmark::AddCustomContext("evidence_bytes", std::to_string(g->evidence.size()));
  benchmark::AddCustomContext("manifest_bytes", std::to_string(g->parsed.manifest.size()));
  benchmark::AddCustomContext("event_log_records", std::to_string(g->parsed.event_log.size()));
  benchmark::AddCustomContext("register", g->parsed.reg.ToString());
  benchmark::AddCustomContext("filter_instructions",
                              std::to_string(g->manifest.filter.bpf.size() / 8));
  benchmark::AddCustomContext("tpm_ca", g->anchors.tpm_ca_pem.empty() ? "no" : "yes");
  benchmark::AddCustomContext("openssl", OpenSSL_version(OPENSSL_VERSION));
}

}  // namespace
}  // namespace fdattest

int main(int argc, char** argv) {
  using namespace fdattest;
  benchmark::Initialize(&argc, argv);
  Load(argc, argv);
  const bool ca = !g->anchors.tpm_ca_pem.empty();
  struct Entry {
    const char* name;
    void (*fn)(benchmark::State&);
    bool needs_ca;
  };
  for (const Entry& e :
       std::initializer_list<Entry>{{"BM_EcdsaP256Verify", BM_EcdsaP256Verify, false},
                                    {"BM_VerifyCached", BM_VerifyCached, false},
                                    {"BM_VerifyUncached", BM_VerifyUncached, false},
                                    {"BM_VerifyCachedNoTpmCa", BM_VerifyCachedNoTpmCa, true},
                                    {"BM_EvidenceIdentity", BM_EvidenceIdentity, false},
                                    {"BM_EvidenceParse", BM_EvidenceParse, false},
                                    {"BM_EkCertificateCheck", BM_EkCertificateCheck, true},
                                    {"BM_AttestationCheck", BM_AttestationCheck, false},
                                    {"BM_EventLogReplay", BM_EventLogReplay, false},
                                    {"BM_ManifestParse", BM_ManifestParse, false},
                                    {"BM_ProveFilter", BM_ProveFilter, false},
                                    {"BM_EvaluatePolicy", BM_EvaluatePolicy, false}}) {
    if (e.needs_ca && !ca) continue;
    benchmark::RegisterBenchmark(e.name, e.fn)->Unit(benchmark::kMicrosecond);
  }
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
