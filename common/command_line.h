// The command-line conventions every fdattest binary shares, on CLI11:
// `--version` prints the build id (common/build_info.h), `--help` ends with
// the binary's exit statuses, and a command line with an unknown option or a
// stray argument is refused naming it, before any other complaint (CLI11 on
// its own reports a missing required option first). For main() only; not
// thread-safe.
#ifndef FDATTEST_COMMON_COMMAND_LINE_H_
#define FDATTEST_COMMON_COMMAND_LINE_H_

#include <functional>
#include <optional>
#include <string>

#include "CLI/CLI.hpp"
#include "absl/strings/string_view.h"

namespace fdattest {

// Adds `--version` to `app` and sets its help footer to `footer` (the exit
// statuses, then where the documentation is).
void AddVersionAndFooter(CLI::App& app, absl::string_view footer);

// Parses argv into `app`. Returns nullopt when the program should go on;
// otherwise the exit status: 0 after `--help` or `--version` (printed on
// stdout), `usage_exit` after a usage error, which is handed to `report` as
// one line ("unknown option --bogus", or CLI11's own message).
std::optional<int> ParseCommandLine(CLI::App& app, int argc, char** argv, int usage_exit,
                                    const std::function<void(const std::string&)>& report);

}  // namespace fdattest

#endif  // FDATTEST_COMMON_COMMAND_LINE_H_
