// `fdattest audit export --data-dir DIR --secret-key-file FILE --log-key VKEY
// --signing-key JWK --tpm-ca PEM --from T1 --to T2 --out BUNDLE`: the
// decisions of [T1, T2) with everything needed to re-check them offline
// (verifier/audit/bundle_export.h), read from fdverifierd's data directory.
// `fdattest audit verify BUNDLE --log-key VKEY [--witness VKEY]... [--json]`:
// an audit bundle checked offline against the pinned log key
// (verifier/audit/bundle_verify.h; docs/verifier-cli.md). AuditCommands adds
// the subcommand to the CLI11 app and, after parsing, runs it. Not
// thread-safe (it holds the parsed options); one per process.
#ifndef FDATTEST_VERIFIER_AUDIT_COMMAND_H_
#define FDATTEST_VERIFIER_AUDIT_COMMAND_H_

#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/strings/string_view.h"
#include "common/status.h"

namespace fdattest {

// Exit statuses of `audit verify`: 0 everything verifies, 1 a finding (or
// the bundle is refused), 4 usage error (an unusable --log-key or --witness).
inline constexpr int kAuditExitVerified = 0;
inline constexpr int kAuditExitFindings = 1;

// A key option's value: a verifier key itself, or the path of a file holding
// one and a "\n" (what `fdattest key log|witness` writes as FILE.vkey).
absl::StatusOr<std::string> ResolveVerifierKey(const std::string& value);

class AuditCommands {
 public:
  // `app` must outlive this object.
  explicit AuditCommands(CLI::App& app);
  AuditCommands(const AuditCommands&) = delete;
  AuditCommands& operator=(const AuditCommands&) = delete;

  // After app.parse(): the exit status of `audit verify` (findings on `out`,
  // one line each, then a summary; usage errors on `err`), or nullopt if it
  // was not chosen.
  std::optional<int> Run(std::ostream& out = std::cout, std::ostream& err = std::cerr) const;

 private:
  std::optional<int> RunExport(std::ostream& out, std::ostream& err) const;

  CLI::App* export_;
  struct ExportOptions {
    std::string data_dir, secret_key_file, log_key, signing_key, tpm_ca, out;
    int64_t from = 0, to = 0;
  } export_options_;
  CLI::App* verify_;
  std::string bundle_;
  std::string log_key_;
  std::vector<std::string> witnesses_;
  bool json_ = false;
};

}  // namespace fdattest

#endif  // FDATTEST_VERIFIER_AUDIT_COMMAND_H_
