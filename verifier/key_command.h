// `fdattest key generate|public|secret|log|witness` and `fdattest registry
// sign`: the verifier's keys on the command line (docs/ear.md,
// docs/verifier-cli.md). KeyCommands adds the
// subcommands to the CLI11 app and, after parsing, runs whichever was chosen.
// Not thread-safe (it holds the parsed options); one per process.
#ifndef FDATTEST_VERIFIER_KEY_COMMAND_H_
#define FDATTEST_VERIFIER_KEY_COMMAND_H_

#include <iostream>
#include <optional>
#include <string>

#include "CLI/CLI.hpp"
#include "absl/strings/string_view.h"

namespace fdattest {

// The "typ" of a signed endpoint registry JWS.
inline constexpr absl::string_view kRegistryJwsTyp = "fdattest-registry+json";

class KeyCommands {
 public:
  // Adds `key generate --out FILE`, `key public FILE`, `key secret --out FILE`
  // (fdverifierd's --secret-key-file, verifier/secret_box.h) and
  // `key log --origin ORIGIN --out FILE` (the audit log's checkpoint key,
  // verifier/audit/signed_note.h), `key witness --name NAME --out FILE` (a
  // witness's cosigner key) and
  // `registry sign --key FILE PAYLOAD`. `app` must outlive this object. The
  // JWKs are printed as one line of canonical JSON; the registry JWS is
  // printed without a trailing newline (as `jose jws sig -c` does).
  explicit KeyCommands(CLI::App& app);
  KeyCommands(const KeyCommands&) = delete;
  KeyCommands& operator=(const KeyCommands&) = delete;

  // After app.parse(): the exit status of the chosen command (0 done, 1
  // refused or failed, with the reason on `err`), or nullopt if none of these
  // commands was chosen.
  std::optional<int> Run(std::ostream& out = std::cout, std::ostream& err = std::cerr) const;

 private:
  CLI::App* key_generate_;
  CLI::App* key_public_;
  CLI::App* registry_sign_;
  CLI::App* key_secret_;
  CLI::App* key_log_;
  CLI::App* key_witness_;
  std::string generate_out_;
  std::string secret_out_;
  std::string log_origin_;
  std::string log_out_;
  std::string witness_name_;
  std::string witness_out_;
  std::string public_key_file_;
  std::string sign_key_file_;
  std::string sign_payload_file_;
};

}  // namespace fdattest

#endif  // FDATTEST_VERIFIER_KEY_COMMAND_H_
