#include "verifier/verify_command.h"

#include <ctime>

#include "absl/strings/str_cat.h"
#include "common/evidence.h"
#include "common/file_io.h"
#include "common/json.h"
#include "common/sha256.h"
#include "common/build_info.h"
#include "verifier/ear.h"
#include "verifier/jose_key.h"
#include "verifier/endpoint_registry.h"
#include "verifier/policy_model.h"
#include "verifier/report.h"
#include "verifier/state.h"
#include "verifier/verify.h"

namespace fdattest {
namespace {

constexpr int kExitConfig = 4;
constexpr size_t kMaxAkBytes = 4096;
constexpr size_t kMaxCaBytes = 1 << 20;

int64_t Now() { return static_cast<int64_t>(std::time(nullptr)); }

int ConfigError(std::ostream& err, absl::string_view what, const absl::Status& status) {
  err << "fdattest: error: " << what << ": " << status.message() << "\n";
  return kExitConfig;
}

}  // namespace

VerifyCommands::VerifyCommands(CLI::App& app) {
  verify_ = app.add_subcommand("verify", "verify an evidence bundle against a policy (offline)");
  verify_->add_option("evidence", evidence_, "evidence bundle (fdlaunch --evidence-out)")
      ->required();
  verify_->add_option("--policy", policy_, "data-flow policy (JSON, docs/policy.md)")->required();
  verify_->add_option("--ak", ak_, "the enrolled AK: marshalled TPM2B_PUBLIC (fdattestd's ak.pub)")
      ->required();
  verify_->add_option("--state", state_,
                      "state file: issued nonces (single use) and attester counters");
  verify_->add_option("--nonce", nonce_hex_, "the nonce expected in the bundle, hex");
  verify_->add_option("--tpm-ca", tpm_ca_, "trusted TPM vendor CA certificates (PEM)");
  verify_->add_option("--registry", registry_,
                      "signed endpoint registry (compact JWS; the policy names its signer)");
  verify_->add_option("--signing-key", signing_key_, "issue an EAR signed with this ES256 JWK");
  verify_->add_option("--ear-out", ear_out_, "write the EAR (compact JWS) to FILE");
  verify_->add_option("--ear-lifetime", ear_lifetime_, "EAR lifetime in seconds (exp - iat)")
      ->check(CLI::Range(int64_t{1}, int64_t{86400 * 30}))
      ->capture_default_str();
  verify_->add_flag("--json", json_, "machine-readable report");
  verify_->footer(
      "Exit status: 0 affirming; 1 warning (nothing failed, something not established: a rule\n"
      "not evaluable, no --state/--nonce, no --tpm-ca); 2 contraindicated (a rule failed);\n"
      "3 broken evidence (nothing in the bundle believed); 4 usage or configuration error\n"
      "(nothing consumed).");

  challenge_ = app.add_subcommand("challenge", "issue a single-use nonce (hex) for one attestation");
  challenge_->add_option("--state", state_, "state file")->required();
  challenge_->add_option("--lifetime", nonce_lifetime_, "seconds until the nonce expires")
      ->check(CLI::Range(int64_t{1}, int64_t{86400}))
      ->capture_default_str();
  challenge_->footer("Exit status: 0 the nonce (hex) is printed; 4 usage or state error.");
}

std::optional<int> VerifyCommands::Run(std::ostream& out, std::ostream& err) const {
  if (verify_->parsed()) return RunVerify(out, err);
  if (challenge_->parsed()) return RunChallenge(out, err);
  return std::nullopt;
}

int VerifyCommands::RunChallenge(std::ostream& out, std::ostream& err) const {
  absl::StatusOr<VerifierState> state = VerifierState::Open(state_);
  if (!state.ok()) return ConfigError(err, "challenge", state.status());
  const int64_t now = Now();
  absl::StatusOr<std::string> nonce = state->IssueNonce(now, nonce_lifetime_);
  if (!nonce.ok()) return ConfigError(err, "challenge", nonce.status());
  if (absl::Status s = state->Save(now); !s.ok()) return ConfigError(err, "challenge", s);
  out << HexEncode(*nonce) << "\n";
  return 0;
}

int VerifyCommands::RunVerify(std::ostream& out, std::ostream& err) const {
  if (!state_.empty() && !nonce_hex_.empty()) {
    err << "fdattest: error: verify: --state and --nonce are exclusive (the state issues nonces)\n";
    return kExitConfig;
  }
  if (!ear_out_.empty() && signing_key_.empty()) {
    err << "fdattest: error: verify: --ear-out needs --signing-key\n";
    return kExitConfig;
  }
  // Configuration first: any problem here is the operator's (exit 4), and
  // nothing is consumed from the state. (A bundle that reaches step 2 spends
  // its nonce whatever happens next: an attempt is an attempt. One refused in
  // step 1 spends none: its nonce may not be readable, and it gets no verdict
  // but broken evidence, so the nonce is left for its one genuine attempt.)
  absl::StatusOr<Policy> policy = Policy::Load(policy_);
  if (!policy.ok()) return ConfigError(err, "policy " + policy_, policy.status());
  TrustAnchors anchors;
  absl::StatusOr<std::string> ak = ReadFileLimited(ak_, kMaxAkBytes);
  if (!ak.ok()) return ConfigError(err, "--ak", ak.status());
  if (absl::Status s = ParseAkPublic(*ak).status(); !s.ok()) return ConfigError(err, "--ak " + ak_, s);
  anchors.ak_public = *ak;
  if (!tpm_ca_.empty()) {
    absl::StatusOr<std::string> ca = ReadFileLimited(tpm_ca_, kMaxCaBytes);
    if (!ca.ok()) return ConfigError(err, "--tpm-ca", ca.status());
    anchors.tpm_ca_pem = *ca;
  }
  std::optional<EndpointRegistry> registry;
  if (!registry_.empty()) {
    if (!policy->registry) {
      err << "fdattest: error: verify: --registry given but the policy names no registry signer\n";
      return kExitConfig;
    }
    absl::StatusOr<std::string> jws = ReadFileLimited(registry_, kMaxRegistryBytes * 2);
    if (!jws.ok()) return ConfigError(err, "--registry", jws.status());
    absl::StatusOr<std::string> signer = CanonicalJson(policy->registry->signer_jwk);
    if (!signer.ok()) return ConfigError(err, "policy registry signer", signer.status());
    // A compact JWS has no whitespace; one trailing newline from an editor or
    // `echo` is not part of it.
    absl::string_view token = *jws;
    if (!token.empty() && token.back() == '\n') token.remove_suffix(1);
    absl::StatusOr<std::string> payload = VerifyCompactJws(token, *signer);
    if (!payload.ok()) return ConfigError(err, "--registry " + registry_, payload.status());
    absl::StatusOr<EndpointRegistry> parsed = EndpointRegistry::Parse(*payload);
    if (!parsed.ok()) return ConfigError(err, "--registry " + registry_, parsed.status());
    registry = *std::move(parsed);
  }
  std::optional<SigningKey> key;
  if (!signing_key_.empty()) {
    absl::StatusOr<SigningKey> loaded = SigningKey::Load(signing_key_);
    if (!loaded.ok()) return ConfigError(err, "--signing-key", loaded.status());
    key = *std::move(loaded);
  }
  // An evidence file that cannot be read is the operator's problem (exit 4);
  // one that can is judged, whatever its size: the pipeline refuses a bundle
  // over the limit (step 1) from its first kMaxEvidenceBytes + 1 bytes, as
  // broken evidence (exit 3).
  absl::StatusOr<std::string> evidence = ReadFileHead(evidence_, kMaxEvidenceBytes);
  if (!evidence.ok()) return ConfigError(err, "evidence", evidence.status());

  VerifyRequest request;
  request.evidence = *evidence;
  request.anchors = &anchors;
  request.policy = &*policy;
  request.registry = registry ? &*registry : nullptr;
  if (!nonce_hex_.empty()) {
    absl::StatusOr<std::string> nonce = HexDecode(nonce_hex_);
    if (!nonce.ok() || nonce->empty() || nonce->size() > kMaxNonceBytes) {
      err << "fdattest: error: verify: --nonce must be 1..64 bytes of hex\n";
      return kExitConfig;
    }
    request.expected_nonce = *nonce;
  }

  // With a state: the nonce is consumed and the attester's counters looked up
  // by the pipeline through these hooks and, if the chain holds, advanced —
  // all under the state's lock.
  const int64_t now = Now();
  std::optional<VerifierState> state;
  if (!state_.empty()) {
    absl::StatusOr<VerifierState> opened = VerifierState::Open(state_);
    if (!opened.ok()) return ConfigError(err, "--state", opened.status());
    state = *std::move(opened);
    request.consume_nonce = [&](absl::string_view nonce) { return state->ConsumeNonce(nonce, now); };
    request.previous_counters_of = [&](absl::string_view ak_name) { return state->Counters(ak_name); };
  }
  VerifyResult result = Verify(request);
  if (state) {
    if (result.counters) state->RecordCounters(result.ak_name, *result.counters);
    if (absl::Status s = state->Save(now); !s.ok()) return ConfigError(err, "--state", s);
  }

  std::string token;
  if (key) {
    absl::StatusOr<std::string> ear =
        IssueEar(MakeEarInput(result, *policy, now, ear_lifetime_, BuildId()), *key);
    if (!ear.ok()) return ConfigError(err, "EAR", ear.status());
    token = *ear;
    if (!ear_out_.empty()) {
      if (absl::Status s = WriteFileAtomic(ear_out_, token, 0644); !s.ok()) {
        return ConfigError(err, "--ear-out", s);
      }
    }
  }
  if (json_) {
    Json report = ReportJson(result);
    report["policy_id"] = policy->id;
    if (!token.empty()) report["ear"] = token;
    out << report.dump(2) << "\n";
  } else {
    out << ReportText(result);
    if (!token.empty()) out << "\nEAR (application/eat-jwt):\n" << token << "\n";
  }
  return VerdictExitCode(result.verdict);
}

}  // namespace fdattest
