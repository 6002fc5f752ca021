// fdattest: the verifier's offline command line. See docs/verifier-cli.md.
#include <cstdio>
#include <optional>
#include <string>

#include "CLI/CLI.hpp"
#include "common/command_line.h"
#include "verifier/audit_command.h"
#include "verifier/bpf_command.h"
#include "verifier/key_command.h"
#include "verifier/verify_command.h"

namespace {

constexpr char kFooter[] =
    "Exit status (each command's --help has its own):\n"
    "  verify     0 affirming, 1 warning, 2 contraindicated, 3 broken evidence, 4 usage or\n"
    "             configuration error\n"
    "  challenge  0 nonce issued, 4 usage or state error\n"
    "  bpf        0 analyzed / the filter matches, 1 a property fails, 3 cannot be analyzed,\n"
    "             4 usage error\n"
    "  key, registry  0 done, 1 refused or failed, 4 usage error\n"
    "  audit verify   0 the bundle verifies, 1 a finding, 4 usage error\n"
    "Documentation: docs/verifier-cli.md.";

constexpr char kBpfFooter[] =
    "Exit status: 0 explain: analyzed, check: the filter matches the profile; 1 check: a\n"
    "property fails (counterexamples printed); 3 the input cannot be analyzed; 4 usage error.";

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"fdattest: verify fd-confinement evidence offline"};
  fdattest::AddVersionAndFooter(app, kFooter);
  app.require_subcommand(1);
  CLI::App* bpf = app.add_subcommand("bpf", "analyze a seccomp filter from its bytes alone");
  bpf->require_subcommand(1);
  bpf->footer(kBpfFooter);

  fdattest::BpfCommandOptions options;
  int exec_fd = -2;
  auto add_common = [&](CLI::App* cmd) {
    cmd->add_option("input", options.input, "raw BPF file or launch manifest (JSON)")->required();
    cmd->add_option("--exec-fd", exec_fd,
                    "the launcher's exec descriptor (default: the manifest's; none for a raw "
                    "filter)");
    cmd->add_flag("--json", options.json, "machine-readable output");
    cmd->footer(kBpfFooter);
  };
  CLI::App* explain = bpf->add_subcommand("explain", "print what the filter permits");
  add_common(explain);
  explain->add_option("--profile", options.profile, "also check the properties against PROFILE");
  CLI::App* check = bpf->add_subcommand("check", "prove the filter matches a launch profile");
  add_common(check);
  check->add_option("--profile", options.profile, "launch profile (JSON)")->required();
  fdattest::KeyCommands key_commands(app);
  fdattest::VerifyCommands verify_commands(app);
  fdattest::AuditCommands audit_commands(app);

  if (std::optional<int> done = fdattest::ParseCommandLine(
          app, argc, argv, fdattest::kExitUsage, [](const std::string& message) {
            fprintf(stderr, "fdattest: error: %s (run with --help for the usage)\n",
                    message.c_str());
          })) {
    return *done;
  }
  if (std::optional<int> status = key_commands.Run()) return *status;
  if (std::optional<int> status = verify_commands.Run()) return *status;
  if (std::optional<int> status = audit_commands.Run()) return *status;
  if (exec_fd != -2) options.exec_fd = exec_fd;
  if (explain->parsed()) return fdattest::RunBpfExplain(options);
  return fdattest::RunBpfCheck(options);
}
