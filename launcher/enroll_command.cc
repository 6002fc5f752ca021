// `fdlaunch enroll`'s command line (launcher/enroll_command.h), built into
// the fdlaunch executable with the other command-line code.
#include "launcher/enroll_command.h"

#include <cstdio>
#include <optional>
#include <string>

#include "CLI/CLI.hpp"
#include "common/command_line.h"
#include "common/https_client.h"
#include "launcher/attestor_client.h"
#include "launcher/enroll.h"

namespace fdattest {

int RunEnrollCommand(int argc, char** argv) {
  constexpr char kUsage[] =
      "usage: fdlaunch enroll --attestor SOCKET --verifier URL --ca CERT [--replace]";
  CLI::App app{"fdlaunch enroll: enroll this host's attestor (its TPM's EK and AK) with the "
               "verifier service, proving with TPM2_ActivateCredential that the AK is in that TPM",
               "fdlaunch enroll"};
  AddVersionAndFooter(app,
                      "Prints the attester's id. Exit status: 0 enrolled and active, 1 refused or "
                      "failed (one line \"fdlaunch enroll: error: ...\"), 2 usage error.\n"
                      "Documentation: docs/launcher.md.");
  std::string socket, url, ca;
  bool replace = false;
  app.add_option("--attestor", socket, "fdattestd's socket")->required();
  app.add_option("--verifier", url, "the verifier service, https://HOST[:PORT]")->required();
  app.add_option("--ca", ca, "PEM file of the CAs the verifier's certificate chains to")
      ->required();
  app.add_flag("--replace", replace,
               "replace the EK's active attester (the verifier allows it to administrators only)");
  if (std::optional<int> done = ParseCommandLine(app, argc, argv, 2, [&](const std::string& m) {
        fprintf(stderr, "fdlaunch enroll: error: %s (%s)\n", m.c_str(), kUsage);
      })) {
    return *done;
  }
  absl::StatusOr<std::string> id = [&]() -> absl::StatusOr<std::string> {
    ASSIGN_OR_RETURN(HttpsClient verifier, HttpsClient::New(url, ca));
    ASSIGN_OR_RETURN(AttestorClient attestor, AttestorClient::Connect(socket));
    return Enroll(attestor, verifier, replace);
  }();
  if (!id.ok()) {
    fprintf(stderr, "fdlaunch enroll: error: %s\n", std::string(id.status().message()).c_str());
    return 1;
  }
  printf("%s\n", id->c_str());
  return 0;
}

}  // namespace fdattest
