#include "verifier/audit_command.h"

#include "absl/strings/str_cat.h"
#include "common/file_io.h"
#include "common/json.h"
#include "verifier/audit/bundle_export.h"
#include "verifier/audit/bundle_verify.h"
#include "verifier/audit/signed_note.h"
#include "verifier/bpf_command.h"
#include "verifier/jose_key.h"
#include "verifier/secret_box.h"
#include "verifier/sqlite_store.h"

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
  export_ = audit->add_subcommand(
      "export",
      "write the decisions of [--from, --to) as an audit bundle, from fdverifierd's data "
      "directory (it may be serving)");
  ExportOptions& e = export_options_;
  export_->add_option("--data-dir", e.data_dir, "fdverifierd's data directory")->required();
  export_->add_option("--secret-key-file", e.secret_key_file,
                      "fdverifierd's --secret-key-file (opens the tenants' keys)")
      ->required();
  export_->add_option("--log-key", e.log_key, "the log's verifier key (or its .vkey file)")
      ->required();
  export_->add_option("--signing-key", e.signing_key,
                      "fdverifierd's EAR signing key (its public part goes in jwks.json)")
      ->required();
  export_->add_option("--tpm-ca", e.tpm_ca, "the TPM vendor CAs fdverifierd trusts (PEM)")
      ->required();
  export_->add_option("--from", e.from, "unix seconds, inclusive")->required();
  export_->add_option("--to", e.to, "unix seconds, exclusive")->required();
  export_->add_option("--out", e.out, "the bundle's directory (new or empty)")->required();
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
  export_->footer("Exit status: 0 written; 1 the export failed (nothing usable written); 4 usage error.");
  for (CLI::App* cmd : {verify_}) {
    cmd->footer(
        "Exit status: 0 everything verifies; 1 a finding (each printed naming its file) or the "
        "bundle is refused; 4 usage error.");
  }
}

std::optional<int> AuditCommands::RunExport(std::ostream& out, std::ostream& err) const {
  const ExportOptions& e = export_options_;
  auto fail = [&](absl::string_view what, const absl::Status& s, int code) {
    err << "fdattest audit export: " << what << ": " << s.message() << "\n";
    return code;
  };
  absl::StatusOr<std::string> log_key = ResolveVerifierKey(e.log_key);
  if (!log_key.ok()) return fail("--log-key", log_key.status(), kExitUsage);
  absl::StatusOr<SigningKey> signing = SigningKey::Load(e.signing_key);
  if (!signing.ok()) return fail("--signing-key", signing.status(), kExitUsage);
  absl::StatusOr<std::string> tpm_ca = ReadFileLimited(e.tpm_ca, 1 << 20);
  if (!tpm_ca.ok()) return fail("--tpm-ca", tpm_ca.status(), kExitUsage);
  absl::StatusOr<SecretBox> box = SecretBox::Open(e.secret_key_file);
  if (!box.ok()) return fail("--secret-key-file", box.status(), kExitUsage);
  absl::StatusOr<std::unique_ptr<SqliteStore>> store = SqliteStore::Open(e.data_dir);
  if (!store.ok()) return fail("--data-dir", store.status(), kExitUsage);
  absl::StatusOr<Json> jwk = ParseJsonStrict(signing->PublicJwkJson());
  if (!jwk.ok()) return fail("--signing-key", jwk.status(), kExitUsage);
  AuditExportRequest request;
  request.store = store->get();
  request.service_key = &*box;
  request.log_vkey = *log_key;
  request.jwks = Json{{"keys", Json::array({*jwk})}}.dump();
  request.tpm_ca_pem = *std::move(tpm_ca);
  request.from = e.from;
  request.to = e.to;
  absl::StatusOr<AuditBundle> bundle = ExportAuditBundle(request);
  if (!bundle.ok()) return fail("export", bundle.status(), kAuditExitFindings);
  if (absl::Status s = bundle->Write(e.out); !s.ok()) return fail(e.out, s, kAuditExitFindings);
  out << "exported " << bundle->entries.size() << " decisions, " << bundle->checkpoints.size()
      << " earlier checkpoints, to " << e.out << "\n";
  return 0;
}

std::optional<int> AuditCommands::Run(std::ostream& out, std::ostream& err) const {
  if (export_->parsed()) return RunExport(out, err);
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
