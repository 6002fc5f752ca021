// fdlaunch: run a workload confined to the file descriptors its profile
// declares. See docs/launcher.md.
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include <openssl/crypto.h>
#include <sys/prctl.h>

#include "CLI/CLI.hpp"
#include "common/command_line.h"
#include "common/sha256.h"
#include "launcher/attest_command.h"
#include "launcher/collect_evidence.h"
#include "launcher/enroll_command.h"
#include "launcher/launch.h"
#include "launcher/verifier_session.h"

namespace {

constexpr char kUsage[] =
    "usage: fdlaunch --profile PROFILE.json [--manifest-out FILE] [--filter-out FILE] "
    "[--filter-cache DIR] [--attestor SOCKET [--evidence-out FILE [--nonce HEX]] "
    "[--verifier URL --ca CERT --release NAME... [--policy ID]]] -- PROGRAM [ARGS...]"
    " | fdlaunch attest --attestor SOCKET --launch ID --nonce HEX --evidence-out FILE"
    " | fdlaunch enroll --attestor SOCKET --verifier URL --ca CERT [--replace]";

constexpr char kFooter[] =
    "Exit status:\n"
    "  the workload's own  the workload ran: unattested, fdlaunch becomes it (same pid);\n"
    "                      attested, fdlaunch stays its parent and exits with its exit code,\n"
    "                      or 128+N when signal N ended it (SIGTERM, SIGINT and SIGHUP are\n"
    "                      passed on to it)\n"
    "  125                 nothing ran: a usage error or a failure before the exec (attested:\n"
    "                      before the attestor released the workload, which is then killed),\n"
    "                      said in one line \"fdlaunch: error: ...\" on stderr\n"
    "  126                 the exec itself failed after the filter was installed\n"
    "  159 (128+31)        the workload was killed by SIGSYS (a foreign-ABI call, or any\n"
    "                      refusal when the profile says \"on_violation\": \"kill\")\n"
    "Without --attestor the launch is unattested and says so in one warning, printed only\n"
    "when the launch goes on. Documentation: docs/launcher.md.";

int UsageError(const std::string& message) {
  fprintf(stderr, "fdlaunch: error: %s (%s)\n", message.c_str(), kUsage);
  return fdattest::kExitLaunchFailed;
}

}  // namespace

int main(int argc, char** argv) {
  // Not dumpable: no process of the same uid may ptrace this one or read its
  // memory, so none can drive it between the measurement and the release.
  if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0) {
    fprintf(stderr, "fdlaunch: error: cannot make the launcher non-dumpable\n");
    return fdattest::kExitLaunchFailed;
  }
  // The launcher reads no OpenSSL configuration: neither the system's nor one
  // named by OPENSSL_CONF in the caller's environment may load providers or
  // engines into it (and parsing it would cost every launch time).
  if (OPENSSL_init_crypto(OPENSSL_INIT_NO_LOAD_CONFIG, nullptr) != 1) {
    fprintf(stderr, "fdlaunch: error: cannot initialise OpenSSL\n");
    return fdattest::kExitLaunchFailed;
  }
  if (argc >= 2 && std::string(argv[1]) == "enroll") {
    return fdattest::RunEnrollCommand(argc - 1, argv + 1);
  }
  if (argc >= 2 && std::string(argv[1]) == "attest") {
    return fdattest::RunAttestCommand(argc - 1, argv + 1);
  }
  CLI::App app{"fdlaunch: run PROGRAM with exactly the file descriptors PROFILE declares, "
               "under a seccomp filter that confines data movement to them"};
  fdattest::LaunchOptions options;
  std::string manifest_out, filter_out, filter_cache, attestor, evidence_out, nonce_hex;
  std::string verifier, verifier_ca, policy;
  fdattest::AddVersionAndFooter(app, kFooter);
  app.add_option("--profile", options.profile_path, "launch profile (JSON)")->required();
  app.add_option("--manifest-out", manifest_out,
                 "write the manifest (canonical JSON) here (default: none written)");
  app.add_option("--filter-out", filter_out,
                 "write the raw BPF filter bytes here (default: none written)");
  app.add_option("--filter-cache", filter_cache,
                 "reuse compiled filters kept in DIR (owned by you or root, not group/other "
                 "writable); every filter is still proven before it is installed (default: no cache)");
  app.add_option("--attestor", attestor,
                 "fdattestd's socket: measure the manifest before the workload starts (default: "
                 "none, an unattested launch)");
  app.add_option("--evidence-out", evidence_out,
                 "with --attestor: write the evidence bundle (JSON) here");
  app.add_option("--nonce", nonce_hex,
                 "with --evidence-out: the verifier's nonce, 1..64 bytes as hex, that the "
                 "launch's observation and evidence are bound to (default: random)");
  app.add_option("--verifier", verifier,
                 "with --attestor: fdverifierd's URL (https://HOST:PORT); the launch takes its nonce "
                 "there, and starts only if the verifier affirms it and releases every --release "
                 "secret");
  app.add_option("--ca", verifier_ca, "with --verifier: the CA certificate(s) (PEM) of its TLS "
                                      "certificate");
  app.add_option("--release", options.release,
                 "with --verifier: a secret to receive, into the profile's fd with that \"secret\" "
                 "(repeat for several)")
      ->expected(1)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  app.add_option("--policy", policy,
                 "with --verifier: the policy id to be judged by (default: the one the secrets "
                 "are bound to)");
  app.add_option("command", options.argv, "-- PROGRAM [ARGS...]")->required();
  app.positionals_at_end();
  if (std::optional<int> done = fdattest::ParseCommandLine(
          app, argc, argv, fdattest::kExitLaunchFailed,
          [](const std::string& message) { UsageError(message); })) {
    return *done;
  }
  if (!manifest_out.empty()) options.manifest_out = manifest_out;
  if (!filter_out.empty()) options.filter_out = filter_out;
  if (app.count("--filter-cache") > 0) {
    if (filter_cache.empty()) return UsageError("--filter-cache needs a directory");
    options.filter_cache = filter_cache;
  }
  if (app.count("--attestor") > 0) {
    if (attestor.empty()) return UsageError("--attestor needs a socket path");
    options.attestor = attestor;
  }
  if (app.count("--evidence-out") > 0) {
    if (!options.attestor) return UsageError("--evidence-out needs --attestor");
    if (evidence_out.empty()) return UsageError("--evidence-out needs a file name");
    options.evidence_out = evidence_out;
  }
  if (app.count("--nonce") > 0) {
    if (!options.evidence_out) return UsageError("--nonce needs --evidence-out");
    absl::StatusOr<std::string> nonce = fdattest::HexDecode(nonce_hex);
    if (!nonce.ok() || nonce->empty() || nonce->size() > fdattest::kMaxNonceBytes) {
      return UsageError("--nonce must be 1..64 bytes as hex (2..128 hex digits)");
    }
    options.nonce = *std::move(nonce);
  }
  std::optional<fdattest::VerifierSession> session;
  if (app.count("--verifier") > 0) {
    if (!options.attestor) return UsageError("--verifier needs --attestor");
    if (verifier_ca.empty()) return UsageError("--verifier needs --ca");
    if (options.release.empty()) return UsageError("--verifier needs at least one --release");
    absl::StatusOr<fdattest::VerifierSession> opened =
        fdattest::VerifierSession::Open(verifier, verifier_ca, policy);
    if (!opened.ok()) return UsageError(std::string(opened.status().message()));
    session = *std::move(opened);
    options.secret_source = &*session;
  } else {
    for (const char* flag : {"--ca", "--release", "--policy"}) {
      if (app.count(flag) > 0) return UsageError(std::string(flag) + " needs --verifier");
    }
  }

  fdattest::Diagnostics diag;
  // An unattested launch returns only on failure; an attested one with the
  // workload's status once it has ended.
  absl::StatusOr<int> status = fdattest::Launch(options, diag);
  if (status.ok()) return *status;
  diag.Error(status.status().message());
  return fdattest::kExitLaunchFailed;
}
