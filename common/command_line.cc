#include "common/command_line.h"

#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/build_info.h"

namespace fdattest {
namespace {

// What the parse left unclaimed, in every subcommand: each one is named
// ("unknown option --bogus", "unexpected argument extra").
std::string DescribeLeftovers(const std::vector<std::string>& left) {
  std::vector<std::string> options, others;
  for (const std::string& arg : left) {
    if (arg == "--") continue;  // the separator, left over when nothing follows it
    (arg.size() > 1 && arg[0] == '-' ? options : others).push_back(arg);
  }
  std::vector<std::string> parts;
  if (!options.empty()) {
    parts.push_back(absl::StrCat(options.size() == 1 ? "unknown option " : "unknown options ",
                                 absl::StrJoin(options, " ")));
  }
  if (!others.empty()) {
    parts.push_back(absl::StrCat(others.size() == 1 ? "unexpected argument " : "unexpected arguments ",
                                 absl::StrJoin(others, " ")));
  }
  return absl::StrJoin(parts, "; ");
}

}  // namespace

void AddVersionAndFooter(CLI::App& app, absl::string_view footer) {
  app.set_version_flag("--version", BuildId(), "print the build id (as EARs name it) and exit");
  app.footer(std::string(footer));
}

std::optional<int> ParseCommandLine(CLI::App& app, int argc, char** argv, int usage_exit,
                                    const std::function<void(const std::string&)>& report) {
  try {
    app.parse(argc, argv);
    return std::nullopt;
  } catch (const CLI::Success& e) {
    return app.exit(e);  // --help or --version, on stdout
  } catch (const CLI::ParseError& e) {
    // CLI11 checks required options before it looks for leftovers, so an
    // unknown option would otherwise be reported as a missing one.
    const std::string left = DescribeLeftovers(app.remaining(/*recurse=*/true));
    report(left.empty() ? std::string(e.what()) : left);
    return usage_exit;
  }
}

}  // namespace fdattest
