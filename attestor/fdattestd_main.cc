// fdattestd: the attestor daemon. Owns the host's TPM, extends each launch's
// measurements into the measurement register, keeps the event log and has the
// AK certify the register for local clients. See docs/attestor.md.
#include <signal.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/strings/str_cat.h"
#include "attestor/attestor.h"
#include "attestor/server.h"
#include "common/command_line.h"
#include "common/file_io.h"
#include "common/unique_fd.h"

namespace {

constexpr int kExitError = 1;
constexpr int kExitUsage = 2;

constexpr char kUsage[] =
    "usage: fdattestd --socket PATH --state-dir DIR --tcti TCTI [--register nv|nv:0xINDEX|pcr:N] "
    "[--allow-resettable-pcr] [--allow-uid N]... [--allow-gid N]... [--owner-auth-file FILE] "
    "[--allow-unobserved]";

constexpr char kFooter[] =
    "Exit status:\n"
    "  0  stopped by SIGTERM or SIGINT\n"
    "  1  not serving, or stopped on an error (one \"fdattestd: error: ...\" line on stderr)\n"
    "  2  usage error\n"
    "tpm2-tss logs its own errors on stderr; TSS2_LOG (e.g. TSS2_LOG=esys+debug) sets how much.\n"
    "Documentation: docs/attestor.md.";

void Say(const std::string& line) {
  std::string text = absl::StrCat("fdattestd: ", line, "\n");
  fputs(text.c_str(), stderr);
  fflush(stderr);
}

int Refuse(const absl::Status& status) {
  Say(absl::StrCat("error: ", status.message(), "; not serving"));
  return kExitError;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"fdattestd: the attestor. Extends launch measurements into a TPM register, "
               "keeps the event log and certifies the register for local clients"};
  fdattest::AttestorOptions options;
  std::string socket_path, owner_auth_file;
  std::vector<uid_t> uids;
  std::vector<gid_t> gids;
  fdattest::AddVersionAndFooter(app, kFooter);
  app.add_option("--socket", socket_path, "unix socket to serve on (created mode 0660)")
      ->required();
  app.add_option("--state-dir", options.state_dir,
                 "AK blobs, NV register auth value and event log (created 0700 if absent)")
      ->required();
  app.add_option("--tcti", options.tcti,
                 "TPM connection, e.g. device:/dev/tpmrm0 or swtpm:path=SOCKET")
      ->required();
  app.add_option("--register", options.register_spec,
                 absl::StrCat("nv (the default index), nv:0xINDEX (8 lowercase hex digits) or pcr:N; default ",
                              options.register_spec));
  app.add_flag("--allow-resettable-pcr", options.allow_resettable_pcr,
               "accept PCR 16 or 23 (resettable by any TPM client: tests only)");
  app.add_option("--allow-uid", uids,
                 "uid allowed to use the API (repeatable; default: 0 alone, unless a uid or gid "
                 "is given)");
  app.add_option("--allow-gid", gids, "gid allowed to use the API (repeatable; default: none)");
  app.add_flag("--allow-unobserved", options.allow_unobserved,
               "serve even when this kernel cannot be observed (no PTRACE_SECCOMP_GET_FILTER, "
               "ptrace refused): every launch is then recorded as not observed, with the reason, "
               "which every shipped policy fails; without it fdattestd refuses to start");
  app.add_option("--owner-auth-file", owner_auth_file,
                 "file holding the owner hierarchy's auth value (to define the NV index; "
                 "default: the empty auth value)");
  if (std::optional<int> done = fdattest::ParseCommandLine(
          app, argc, argv, kExitUsage, [](const std::string& message) {
            Say(absl::StrCat("error: ", message, " (", kUsage, ")"));
          })) {
    return *done;
  }

  fdattest::ServeOptions serve;
  if (!uids.empty() || !gids.empty()) {
    serve.policy.uids = uids;
    serve.policy.gids = gids;
  }
  if (!owner_auth_file.empty()) {
    absl::StatusOr<std::string> auth = fdattest::ReadFileLimited(owner_auth_file, 64);
    if (!auth.ok()) return Refuse(auth.status());
    if (!auth->empty() && auth->back() == '\n') auth->pop_back();
    options.owner_auth = *std::move(auth);
  }

  // SIGTERM/SIGINT end the serving loop through a signalfd (no handler runs
  // inside TPM or log I/O); SIGPIPE is never wanted (sends use MSG_NOSIGNAL).
  signal(SIGPIPE, SIG_IGN);
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  if (sigprocmask(SIG_BLOCK, &stop_signals, nullptr) != 0) {
    return Refuse(fdattest::ErrnoStatus("sigprocmask", errno));
  }
  fdattest::UniqueFd stop(signalfd(-1, &stop_signals, SFD_CLOEXEC | SFD_NONBLOCK));
  if (!stop) return Refuse(fdattest::ErrnoStatus("signalfd", errno));

  // Fail fast if another daemon serves here: it would hold the TPM, and a
  // second TPM client would wait on it.
  absl::Status unused = fdattest::CheckSocketUnused(socket_path);
  if (!unused.ok()) return Refuse(unused);

  absl::StatusOr<std::unique_ptr<fdattest::Attestor>> attestor =
      fdattest::Attestor::Open(options);
  if (!attestor.ok()) return Refuse(attestor.status());
  absl::StatusOr<fdattest::UniqueFd> listener = fdattest::ListenOnUnixSocket(socket_path);
  if (!listener.ok()) return Refuse(listener.status());

  Say(absl::StrCat("serving on ", socket_path, ": register ", (*attestor)->DescribeRegister(),
                   "; ", (*attestor)->startup_summary(), "; peers ",
                   serve.policy.Describe()));
  absl::Status served = fdattest::Serve(**attestor, listener->get(), stop.get(), serve);
  if (!served.ok()) {
    Say(absl::StrCat("error: ", served.message(), "; stopping (a restart reconciles the event "
                                                   "log with the register)"));
    return kExitError;
  }
  unlink(socket_path.c_str());
  Say("stopped");
  return 0;
}
