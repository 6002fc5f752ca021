#include "launcher/self_check.h"

#include "absl/strings/str_cat.h"
#include "common/bpf.h"
#include "common/bpf_symbolic.h"

namespace fdattest {

absl::Status SelfCheckFilter(absl::string_view bpf, const FdSets& fds) {
  auto fail = [](absl::string_view why) {
    return absl::InternalError(absl::StrCat("filter self-check failed: ", why));
  };
  absl::StatusOr<BpfProgram> program = BpfProgram::Decode(bpf);
  if (!program.ok()) return fail(program.status().message());
  absl::StatusOr<DecisionTable> table = DecisionTable::Build(*program);
  if (!table.ok()) return fail(table.status().message());
  absl::StatusOr<std::vector<PropertyResult>> results = CheckLauncherProperties(*table, fds);
  if (!results.ok()) return fail(results.status().message());
  for (const PropertyResult& r : *results) {
    if (r.holds) continue;
    return fail(absl::StrCat(r.id, ": ", r.detail, " (counterexample ",
                             r.counterexample ? r.counterexample->DebugString() : "none", " -> ",
                             DescribeRet(r.counterexample_ret), ")"));
  }
  return absl::OkStatus();
}

}  // namespace fdattest
