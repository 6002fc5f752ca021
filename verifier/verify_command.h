// `fdattest verify` and `fdattest challenge`: the offline verifier's command
// line around the pipeline (verifier/verify.h). Reads the configuration files
// (policy, enrolled AK, TPM CA, signed endpoint registry, signing key), keeps
// nonces and attester counters in an optional state file, prints the report
// and the EAR. Documented in docs/verifier-cli.md.
#ifndef FDATTEST_VERIFIER_VERIFY_COMMAND_H_
#define FDATTEST_VERIFIER_VERIFY_COMMAND_H_

#include <iostream>
#include <optional>
#include <string>

#include "CLI/CLI.hpp"

namespace fdattest {

class VerifyCommands {
 public:
  // Adds `verify` and `challenge` to `app`, which must outlive this object.
  explicit VerifyCommands(CLI::App& app);
  VerifyCommands(const VerifyCommands&) = delete;
  VerifyCommands& operator=(const VerifyCommands&) = delete;

  // After app.parse(): the exit status of the chosen command, or nullopt if
  // neither was chosen. verify: 0 affirming, 1 warning, 2 contraindicated,
  // 3 broken evidence, 4 usage or configuration error. challenge: 0 or 4.
  std::optional<int> Run(std::ostream& out = std::cout, std::ostream& err = std::cerr) const;

 private:
  int RunVerify(std::ostream& out, std::ostream& err) const;
  int RunChallenge(std::ostream& out, std::ostream& err) const;

  CLI::App* verify_;
  CLI::App* challenge_;
  std::string evidence_;
  std::string policy_;
  std::string ak_;
  std::string state_;
  std::string nonce_hex_;
  std::string tpm_ca_;
  std::string registry_;
  std::string signing_key_;
  std::string ear_out_;
  int64_t ear_lifetime_ = 3600;
  int64_t nonce_lifetime_ = 300;
  bool json_ = false;
};

}  // namespace fdattest

#endif  // FDATTEST_VERIFIER_VERIFY_COMMAND_H_
