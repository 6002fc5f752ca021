// `fdlaunch attest`'s command line (launcher/attest_command.h), built into
// the fdlaunch executable with the other command-line code.
#include "launcher/attest_command.h"

#include <cstdio>
#include <optional>
#include <string>

#include "CLI/CLI.hpp"
#include "common/command_line.h"
#include "common/evidence.h"
#include "common/file_io.h"
#include "common/sha256.h"
#include "launcher/attestor_client.h"
#include "launcher/collect_evidence.h"
#include "launcher/launch.h"

namespace fdattest {
namespace {

constexpr char kUsage[] =
    "usage: fdlaunch attest --attestor SOCKET --launch ID --nonce HEX --evidence-out FILE";

int Error(const std::string& message) {
  fprintf(stderr, "fdlaunch: error: %s\n", message.c_str());
  return kExitLaunchFailed;
}

}  // namespace

int RunAttestCommand(int argc, char** argv) {
  CLI::App app{
      "fdlaunch attest: have the attestor observe a running attested workload again, "
      "on a fresh nonce, and write the evidence that it is alive and unchanged",
      "fdlaunch attest"};
  AddVersionAndFooter(app,
                      "Prints \"alive\" or \"gone\". Exit status: 0 alive and unchanged (the "
                      "bundle is written), 3 gone (the workload has exited; nothing written), 125 "
                      "refused or failed (one line \"fdlaunch: error: ...\").\n"
                      "Documentation: docs/launcher.md.");
  std::string socket, launch_id, nonce_hex, evidence_out;
  app.add_option("--attestor", socket, "fdattestd's socket")->required();
  app.add_option("--launch", launch_id, "the launch id (the manifest's launch_id)")->required();
  app.add_option("--nonce", nonce_hex, "the verifier's nonce, 1..64 bytes as hex")->required();
  app.add_option("--evidence-out", evidence_out, "write the evidence bundle (JSON) here")
      ->required();
  if (std::optional<int> done =
          ParseCommandLine(app, argc, argv, kExitLaunchFailed, [](const std::string& m) {
            fprintf(stderr, "fdlaunch: error: %s (%s)\n", m.c_str(), kUsage);
          })) {
    return *done;
  }
  absl::StatusOr<std::string> nonce = HexDecode(nonce_hex);
  if (!nonce.ok() || nonce->empty() || nonce->size() > kMaxNonceBytes) {
    return Error("--nonce must be 1..64 bytes as hex (2..128 hex digits)");
  }
  absl::StatusOr<bool> alive = [&]() -> absl::StatusOr<bool> {
    ASSIGN_OR_RETURN(AttestorClient attestor, AttestorClient::Connect(socket));
    ASSIGN_OR_RETURN(ReattestResponse r, attestor.Reattest(launch_id, *nonce));
    if (r.gone) return false;
    ASSIGN_OR_RETURN(std::string evidence,
                     CollectEvidence(attestor, *nonce, launch_id, r.manifest, r.recnum));
    RETURN_IF_ERROR(WriteFileAtomic(evidence_out, evidence));
    return true;
  }();
  if (!alive.ok()) return Error(std::string(alive.status().message()));
  printf("%s\n", *alive ? "alive" : "gone");
  return *alive ? 0 : kExitWorkloadGone;
}

}  // namespace fdattest
