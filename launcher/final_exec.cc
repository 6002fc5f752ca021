#include "launcher/final_exec.h"

#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>

#include "launcher/empty_root.h"
#include "launcher/faults.h"
#include "launcher/fd_setup.h"
#include "launcher/filter.h"

extern char** environ;

namespace fdattest {

absl::Status ExecConfined(const ExecPlan& plan) {
  std::vector<char*> argv;
  for (const std::string& a : plan.argv) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);

  // The test build's lies (launcher/faults.h); no-ops in fdlaunch.
  const Fault fault = ActiveFault();
  RETURN_IF_ERROR(InjectBeforeRoot(plan.declared, plan.exe_fd));
  RETURN_IF_ERROR(EnterEmptyRoot());
  if (fault != Fault::kNoNnp && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
    return ErrnoStatus("prctl(PR_SET_NO_NEW_PRIVS)", errno);
  }
  // Close every number that is neither declared nor one of our close-on-exec
  // private descriptors (which exec closes).
  std::set<int> keep = plan.declared;
  keep.insert(plan.private_fds.begin(), plan.private_fds.end());
  RETURN_IF_ERROR(CloseAllExcept(keep));
  RETURN_IF_ERROR(InjectAfterClose());

  if (fault == Fault::kSecondFilter) {
    RETURN_IF_ERROR(InstallFilter(AllowAllFilter(), plan.install_flags));
  }
  RETURN_IF_ERROR(InstallFilter(fault == Fault::kFilterBytes ? AllowAllFilter() : plan.bpf,
                                plan.install_flags));

  // From here the filter allows nothing but this exec: no diagnostics.
  syscall(SYS_execveat, plan.exe_fd, "", argv.data(), environ, AT_EMPTY_PATH);
  _exit(kExitExecFailedUnderFilter);
}

}  // namespace fdattest
