// `fdattest key generate|public` and `fdattest registry sign`: the verifier's
// signing key on the command line (docs/ear.md). KeyCommands adds the
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
  std::string generate_out_;
  std::string secret_out_;
  std::string public_key_file_;
  std::string sign_key_file_;
  std::string sign_payload_file_;
};

}  // namespace fdattest

#endif  // FDATTEST_VERIFIER_KEY_COMMAND_H_
