// Reads the seccomp filters real programs install: runs a command under ptrace,
// following every process and thread it creates, and at chosen stops reads each
// tracee's filter stack with PTRACE_SECCOMP_GET_FILTER. Filters are kept once
// per distinct byte string (SHA-256), in the order first seen, with where they
// were seen. Test support for the analyzer's tests on filters fdattest did not
// generate (tests/analyzer/foreign/README.md). Needs CAP_SYS_ADMIN and a
// tracer that is not itself under seccomp. One DumpFilters call at a time per
// process: while it runs, it handles SIGALRM, is the reaper of its
// descendants' orphans (PR_SET_CHILD_SUBREAPER) and waits for any child.
#ifndef FDATTEST_TESTS_ANALYZER_FOREIGN_SECCOMP_DUMPER_H_
#define FDATTEST_TESTS_ANALYZER_FOREIGN_SECCOMP_DUMPER_H_

#include <sys/types.h>

#include <map>
#include <string>
#include <vector>

#include "common/status.h"

namespace fdattest::foreign {

struct DumpOptions {
  std::vector<std::string> argv;  // the command; argv[0] is looked up in PATH
  // After this many seconds every tracee is interrupted, its filters read,
  // and then every tracee is killed. Daemons are dumped this way.
  int timeout_seconds = 30;
  // Also stop at the return of every seccomp(2) and prctl(PR_SET_SECCOMP)
  // call (PTRACE_SYSCALL: slow for busy programs), so a filter is read even
  // when its process is later killed without an exit stop.
  bool after_each_install = false;
};

// Where a filter was seen: a process at one stop, and the filter's place in
// that process's stack as PTRACE_SECCOMP_GET_FILTER numbers it: 0 is the
// filter installed first (the oldest), depth - 1 the newest. The kernel runs
// every filter of the stack and the most restrictive answer wins.
struct Sighting {
  pid_t pid = 0;
  std::string exe;      // /proc/PID/exe at the stop
  std::string comm;     // /proc/PID/comm
  std::string cmdline;  // /proc/PID/cmdline, arguments joined by spaces (capped)
  std::string point;    // "exit", "exec", "fork", "vfork", "clone", "install", "timeout", ...
  int index = 0;
  int depth = 0;  // filters in the stack at that stop
};

struct DumpedFilter {
  std::string bytes;  // struct sock_filter array exactly as the kernel returned it
  std::string sha256_hex;
  size_t instructions = 0;
  Sighting first;
  int processes = 0;  // distinct pids it was seen in
};

struct DumpResult {
  std::vector<DumpedFilter> filters;  // distinct, in the order first seen
  // Distinct stacks, each as filter positions in `filters`, oldest first.
  std::vector<std::vector<int>> stacks;
  int processes_traced = 0;
  bool timed_out = false;
  int root_wait_status = 0;  // the command's waitpid status (if it ended by itself)
  bool root_ended = false;
  std::vector<std::string> notes;  // filters that could not be read, and why
};

// Runs the command to its end (or the timeout) and returns every distinct
// filter seen. Errors: the command cannot be started or traced.
absl::StatusOr<DumpResult> DumpFilters(const DumpOptions& options);

// Writes DIR/NAME.K.bpf for the K-th filter (from 0) and DIR/NAME.json, a
// description naming the command, `labels` (e.g. the package and version)
// and, per filter, its digest, size and first sighting.
absl::Status WriteDump(const DumpResult& result, const DumpOptions& options,
                       const std::map<std::string, std::string>& labels, const std::string& dir,
                       const std::string& name);

}  // namespace fdattest::foreign

#endif  // FDATTEST_TESTS_ANALYZER_FOREIGN_SECCOMP_DUMPER_H_
