// Proves, on a filter's decision table, the properties an fd-confining
// launcher filter must have for a given set of declared descriptors
// (docs/filter.md). Every property is checked for every input; a failed
// property carries a counterexample input and the filter's answer to it.
// Stateless functions; thread-safe.
#ifndef FDATTEST_COMMON_BPF_PROPERTIES_H_
#define FDATTEST_COMMON_BPF_PROPERTIES_H_

#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "common/bpf_symbolic.h"
#include "common/profile.h"
#include "common/syscall_names.h"

namespace fdattest {

// The declared descriptors, by what the filter may let the workload do.
struct FdSets {
  std::set<int> readable;    // access r, rw
  std::set<int> writable;    // access w, rw, a
  std::set<int> append;      // access a
  int exec_fd = -1;          // the launcher's one execveat descriptor; -1: none
  std::set<int> declared() const;
};

struct PropertyResult {
  std::string id;           // stable, e.g. "read-family-fds"
  std::string statement;    // what was proven (or refuted), in words
  bool holds = false;
  std::optional<SeccompInput> counterexample;
  uint32_t counterexample_ret = 0;
  std::string detail;       // which syscall/argument broke it
};
// A proof's results, shared (a verifier hands the same cached proof to every
// verification of a job).
using PropertyList = std::shared_ptr<const std::vector<PropertyResult>>;


// The fd sets a profile declares; `exec_fd` is the launcher's exec descriptor
// (from the manifest), -1 when none may be executed.
FdSets FdSetsOf(const Profile& profile, int exec_fd);

// Checks every property. ResourceExhausted when the table is too complex.
absl::StatusOr<std::vector<PropertyResult>> CheckLauncherProperties(const DecisionTable& table,
                                                                    const FdSets& fds);

}  // namespace fdattest

#endif  // FDATTEST_COMMON_BPF_PROPERTIES_H_
