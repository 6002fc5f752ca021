// fdlaunch: run a workload confined to the file descriptors its profile
// declares. See docs/launcher.md.
#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "launcher/launch.h"

int main(int argc, char** argv) {
  CLI::App app{"fdlaunch: run PROGRAM with exactly the file descriptors PROFILE declares, "
               "under a seccomp filter that confines data movement to them"};
  fdattest::LaunchOptions options;
  std::string manifest_out, filter_out;
  app.add_option("--profile", options.profile_path, "launch profile (JSON)")->required();
  app.add_option("--manifest-out", manifest_out, "write the manifest (canonical JSON) here");
  app.add_option("--filter-out", filter_out, "write the raw BPF filter bytes here");
  app.add_option("command", options.argv, "-- PROGRAM [ARGS...]")->required();
  app.positionals_at_end();
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::string msg = e.what();
    fprintf(stderr, "fdlaunch: error: %s (usage: fdlaunch --profile PROFILE.json "
                    "[--manifest-out FILE] [--filter-out FILE] -- PROGRAM [ARGS...])\n",
            msg.c_str());
    return fdattest::kExitLaunchFailed;
  }
  if (!manifest_out.empty()) options.manifest_out = manifest_out;
  if (!filter_out.empty()) options.filter_out = filter_out;

  fdattest::Diagnostics diag;
  absl::Status status = fdattest::Launch(options, diag);
  // Launch returns only on failure.
  diag.Error(status.ok() ? "launch ended without exec" : std::string(status.message()));
  return fdattest::kExitLaunchFailed;
}
