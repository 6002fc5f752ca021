#include "verifier/audit_command.h"

#include "absl/strings/str_cat.h"
#include "common/file_io.h"
#include "common/json.h"
#include "verifier/audit/bundle_verify.h"
#include "verifier/audit/signed_note.h"
#include "verifier/bpf_command.h"

namespace fdattest {

absl::StatusOr<std::string> ResolveVerifierKey(const std::string& value) {
  absl::StatusOr<NoteVerifier> direct = NoteVerifier::FromVerifierKey(value);
  if (direct.ok()) return value;
  absl::StatusOr<std::string> text = ReadFileLimited(value, 4096);
  if (!text.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(
        value, ": neither a verifier key (", direct.status().message(), ") nor a readable file"));
  }
  std::string key = *std::move(text);
  if (!key.empty() && key.back() == '\n') key.pop_back();
  absl::Status parsed = NoteVerifier::FromVerifierKey(key).status();
  if (!parsed.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(value, ": ", parsed.message()));
  }
  return key;
}

AuditCommands::AuditCommands(CLI::App& app) {
  CLI::App* audit = app.add_subcommand("audit", "the audit archive's bundles");
  audit->require_subcommand(1);
  verify_ = audit->add_subcommand(
      "verify",
      "check an audit bundle offline: signatures, proofs, digests, EARs, and every decision "
      "re-run");
  verify_->add_option("bundle", bundle_, "the bundle's directory")->required();
  verify_->add_option("--log-key", log_key_,
                      "the log's verifier key (or a file holding it), pinned")
      ->required();
  verify_->add_option("--witness", witnesses_,
                      "a witness's cosigner key (or a file holding it) whose cosignature the "
                      "checkpoint must carry; repeatable");
  verify_->add_flag("--json", json_, "machine-readable output");
  for (CLI::App* cmd : {audit, verify_}) {
    cmd->footer(
        "Exit status: 0 everything verifies; 1 a finding (each printed naming its file) or the "
        "bundle is refused; 4 usage error.");
  }
}

std::optional<int> AuditCommands::Run(std::ostream& out, std::ostream& err) const {
  if (!verify_->parsed()) return std::nullopt;
  AuditVerifyOptions options;
  absl::StatusOr<std::string> log_key = ResolveVerifierKey(log_key_);
  if (!log_key.ok()) {
    err << "fdattest audit verify: --log-key " << log_key.status().message() << "\n";
    return kExitUsage;
  }
  options.log_key = *std::move(log_key);
  for (const std::string& w : witnesses_) {
    absl::StatusOr<std::string> key = ResolveVerifierKey(w);
    if (!key.ok()) {
      err << "fdattest audit verify: --witness " << key.status().message() << "\n";
      return kExitUsage;
    }
    options.witness_keys.push_back(*std::move(key));
  }
  const AuditVerifyReport report = VerifyAuditBundleDir(bundle_, options);
  size_t failures = 0;
  for (const AuditFinding& f : report.findings) failures += f.failure ? 1 : 0;
  if (json_) {
    Json findings = Json::array();
    for (const AuditFinding& f : report.findings) {
      findings.push_back({{"file", f.file}, {"what", f.what}, {"failure", f.failure}});
    }
    Json doc = {{"verified", report.ok()},
                {"tree_size", report.tree_size},
                {"entries", report.entries},
                {"reverified", report.reverified},
                {"gone", report.gone},
                {"findings", std::move(findings)}};
    out << doc.dump(-1, ' ', false, Json::error_handler_t::replace) << "\n";
  } else {
    for (const AuditFinding& f : report.findings) {
      out << f.file << ": " << (f.failure ? "" : "note: ") << f.what << "\n";
    }
    if (report.ok()) {
      out << "verified: checkpoint of size " << report.tree_size << ", " << report.entries
          << " entries, " << report.reverified << " decisions re-run and reproduced, "
          << report.gone << " with shredded or expired blobs\n";
    } else {
      out << "FAILED: " << failures << " finding" << (failures == 1 ? "" : "s") << "\n";
    }
  }
  return report.ok() ? kAuditExitVerified : kAuditExitFindings;
}

}  // namespace fdattest
