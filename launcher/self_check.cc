#include "launcher/self_check.h"

#include "absl/strings/str_cat.h"
#include "common/bpf.h"
#include "common/bpf_symbolic.h"

namespace fdattest {

FdSets FdSetsOf(const Profile& profile, int exec_fd) {
  FdSets s;
  s.exec_fd = exec_fd;
  for (const FdSpec& f : profile.fds) {
    if (Readable(f.access)) s.readable.insert(f.fd);
    if (Writable(f.access)) s.writable.insert(f.fd);
    if (f.access == Access::kAppend) s.append.insert(f.fd);
  }
  return s;
}

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
