// fdattest: the verifier's offline command line. See docs/verifier-cli.md.
#include <cstdio>

#include "CLI/CLI.hpp"
#include "verifier/bpf_command.h"
#include "verifier/key_command.h"
#include "verifier/verify_command.h"

int main(int argc, char** argv) {
  CLI::App app{"fdattest: verify fd-confinement evidence offline"};
  app.require_subcommand(1);
  CLI::App* bpf = app.add_subcommand("bpf", "analyze a seccomp filter from its bytes alone");
  bpf->require_subcommand(1);

  fdattest::BpfCommandOptions options;
  int exec_fd = -2;
  auto add_common = [&](CLI::App* cmd) {
    cmd->add_option("input", options.input, "raw BPF file or launch manifest (JSON)")->required();
    cmd->add_option("--exec-fd", exec_fd, "the launcher's exec descriptor (manifests carry it)");
    cmd->add_flag("--json", options.json, "machine-readable output");
  };
  CLI::App* explain = bpf->add_subcommand("explain", "print what the filter permits");
  add_common(explain);
  explain->add_option("--profile", options.profile, "also check the properties against PROFILE");
  CLI::App* check = bpf->add_subcommand("check", "prove the filter matches a launch profile");
  add_common(check);
  check->add_option("--profile", options.profile, "launch profile (JSON)")->required();
  fdattest::KeyCommands key_commands(app);
  fdattest::VerifyCommands verify_commands(app);

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return fdattest::kExitUsage;
  }
  if (std::optional<int> status = key_commands.Run()) return *status;
  if (std::optional<int> status = verify_commands.Run()) return *status;
  if (exec_fd != -2) options.exec_fd = exec_fd;
  if (explain->parsed()) return fdattest::RunBpfExplain(options);
  return fdattest::RunBpfCheck(options);
}
