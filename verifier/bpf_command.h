// `fdattest bpf explain|check`: load a filter from raw BPF bytes or from a
// manifest, analyze it, and report. Returns the process exit status
// (docs/verifier-cli.md). Stateless; thread-safe.
#ifndef FDATTEST_VERIFIER_BPF_COMMAND_H_
#define FDATTEST_VERIFIER_BPF_COMMAND_H_

#include <optional>
#include <string>

namespace fdattest {

inline constexpr int kExitOk = 0;
inline constexpr int kExitMismatch = 1;
inline constexpr int kExitCannotAnalyze = 3;
inline constexpr int kExitUsage = 4;

struct BpfCommandOptions {
  std::string input;  // raw BPF file or manifest JSON
  std::optional<std::string> profile;
  std::optional<int> exec_fd;
  bool json = false;
};

int RunBpfExplain(const BpfCommandOptions& options);
int RunBpfCheck(const BpfCommandOptions& options);

}  // namespace fdattest

#endif  // FDATTEST_VERIFIER_BPF_COMMAND_H_
