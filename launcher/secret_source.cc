#include "launcher/secret_source.h"

#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace fdattest {

absl::Status CheckReleaseOptions(const Profile& profile, const std::vector<std::string>& release,
                                 bool attested, bool has_source, bool has_nonce) {
  std::set<std::string> wanted;
  for (const std::string& name : release) {
    if (!IsSecretName(name)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--release \"", name, "\": a secret's name is 1..64 characters of A-Za-z0-9._-"));
    }
    if (!wanted.insert(name).second) {
      return absl::InvalidArgumentError(absl::StrCat("--release ", name, " is given twice"));
    }
  }
  std::set<std::string> declared;
  for (const FdSpec& spec : profile.fds) {
    if (spec.source != FdSource::kSecret) continue;
    declared.insert(spec.target);
    if (!wanted.contains(spec.target)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "profile fd ", spec.fd, " is secret \"", spec.target, "\", but no --release ",
          spec.target, " is given: the workload would start with an empty secret fd"));
    }
  }
  for (const std::string& name : wanted) {
    if (!declared.contains(name)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--release ", name, ": the profile declares no fd with \"secret\": \"", name, "\""));
    }
  }
  if (wanted.empty()) return absl::OkStatus();
  if (!attested) {
    return absl::InvalidArgumentError(
        "--release needs an attested launch: secrets are released to the evidence of this launch");
  }
  if (!has_source) {
    return absl::InvalidArgumentError("--release needs a verifier to release the secrets");
  }
  if (has_nonce) {
    return absl::InvalidArgumentError(
        "--nonce cannot be used with --release: the verifier's challenge is the nonce");
  }
  return absl::OkStatus();
}

namespace {

// "secret release refused: verdict V (reason); NAME: why; ...; failed rules: R3 ...; R7 ..."
std::string Refusal(const ReleaseOutcome& outcome, const std::vector<std::string>& names) {
  std::vector<std::string> parts;
  parts.push_back(absl::StrCat("secret release refused: verdict ",
                               outcome.verdict.empty() ? "unknown" : outcome.verdict,
                               outcome.reason.empty() ? "" : absl::StrCat(" (", outcome.reason, ")"),
                               outcome.attestation_id.empty()
                                   ? ""
                                   : absl::StrCat(", attestation ", outcome.attestation_id)));
  for (const std::string& name : names) {
    if (outcome.secrets.contains(name)) continue;
    auto why = outcome.refused.find(name);
    parts.push_back(absl::StrCat(
        name, ": ", why == outcome.refused.end() ? "not released" : why->second));
  }
  if (!outcome.failed_rules.empty()) {
    parts.push_back(absl::StrCat("failed rules: ", absl::StrJoin(outcome.failed_rules, "; ")));
  }
  return absl::StrJoin(parts, "; ");
}

}  // namespace

absl::Status ReceiveSecrets(SecretSource& source, absl::string_view evidence,
                            absl::string_view launch_id, const LaunchKey& key,
                            PendingSecrets& pending) {
  const std::vector<std::string> names = pending.names();
  if (names.empty()) return absl::OkStatus();
  absl::StatusOr<ReleaseOutcome> outcome = source.Release(evidence, names);
  if (!outcome.ok()) {
    return absl::Status(outcome.status().code(),
                        absl::StrCat("secret release: ", outcome.status().message()));
  }
  for (const std::string& name : names) {
    if (!outcome->secrets.contains(name)) return absl::PermissionDeniedError(Refusal(*outcome, names));
  }
  for (const std::string& name : names) {
    absl::StatusOr<std::string> plaintext = key.Decrypt(outcome->secrets.at(name), launch_id);
    if (!plaintext.ok()) {
      return absl::Status(plaintext.status().code(),
                          absl::StrCat("secret ", name, ": ", plaintext.status().message()));
    }
    RETURN_IF_ERROR(pending.Fill(name, *plaintext));  // cleanses the plaintext
  }
  return pending.CheckAllFilled();
}

}  // namespace fdattest
