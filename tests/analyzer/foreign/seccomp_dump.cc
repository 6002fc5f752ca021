// seccomp_dump: runs a command under ptrace and writes every distinct seccomp
// filter its processes install (tests/analyzer/foreign/seccomp_dumper.h).
//
//   seccomp_dump --out DIR --name NAME [--timeout S] [--after-each-install]
//                [--label KEY=VALUE]... -- COMMAND [ARG...]
//
// Writes DIR/NAME.K.bpf (K = 0, 1, ... in the order first seen) and
// DIR/NAME.json. Exit status: 0 at least one filter written, 3 the command
// installed none, 1 the command could not be run or the output not written,
// 2 usage error.
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "tests/analyzer/foreign/seccomp_dumper.h"

int main(int argc, char** argv) {
  using fdattest::foreign::DumpOptions;
  CLI::App app{"seccomp_dump: write the seccomp filters a command installs"};
  DumpOptions options;
  std::string out_dir, name;
  std::vector<std::string> labels;
  app.add_option("--out", out_dir, "directory for NAME.K.bpf and NAME.json")->required();
  app.add_option("--name", name, "file name prefix")->required();
  app.add_option("--timeout", options.timeout_seconds,
                 "seconds before every process is interrupted, dumped and killed (default 30)")
      ->check(CLI::Range(1, 3600));
  app.add_flag("--after-each-install", options.after_each_install,
               "also read the filters at the return of every seccomp() and prctl(PR_SET_SECCOMP)");
  app.add_option("--label", labels, "KEY=VALUE recorded in NAME.json (e.g. package=file=1:5.44-3)");
  app.add_option("command", options.argv, "the command and its arguments")->required();
  app.positionals_at_end();
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  std::map<std::string, std::string> label_map;
  for (const std::string& l : labels) {
    size_t eq = l.find('=');
    if (eq == std::string::npos || eq == 0) {
      std::cerr << "seccomp_dump: --label needs KEY=VALUE, got '" << l << "'\n";
      return 2;
    }
    label_map[l.substr(0, eq)] = l.substr(eq + 1);
  }
  auto result = fdattest::foreign::DumpFilters(options);
  if (!result.ok()) {
    std::cerr << "seccomp_dump: " << result.status() << "\n";
    return 1;
  }
  if (absl::Status s = fdattest::foreign::WriteDump(*result, options, label_map, out_dir, name);
      !s.ok()) {
    std::cerr << "seccomp_dump: " << s << "\n";
    return 1;
  }
  for (size_t k = 0; k < result->filters.size(); ++k) {
    const auto& f = result->filters[k];
    std::cout << name << "." << k << ".bpf " << f.sha256_hex << " " << f.instructions
              << " insns, first in " << f.first.exe << " (pid " << f.first.pid << ", "
              << f.first.point << ", index " << f.first.index << " of " << f.first.depth << "), "
              << f.processes << " process(es)\n";
  }
  for (const std::string& note : result->notes) std::cout << "note: " << note << "\n";
  std::cout << result->processes_traced << " process(es) traced"
            << (result->timed_out ? ", stopped at the timeout" : "") << "\n";
  return result->filters.empty() ? 3 : 0;
}
