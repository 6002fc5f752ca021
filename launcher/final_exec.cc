#include "launcher/final_exec.h"

#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>

#include "launcher/empty_root.h"
#include "launcher/fd_setup.h"
#include "launcher/filter.h"

extern char** environ;

namespace fdattest {

absl::Status ExecConfined(const ExecPlan& plan) {
  std::vector<char*> argv;
  for (const std::string& a : plan.argv) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);

  RETURN_IF_ERROR(EnterEmptyRoot());
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
    return ErrnoStatus("prctl(PR_SET_NO_NEW_PRIVS)", errno);
  }
  // Close every number that is neither declared nor one of our close-on-exec
  // private descriptors (which exec closes).
  std::set<int> keep = plan.declared;
  keep.insert(plan.private_fds.begin(), plan.private_fds.end());
  RETURN_IF_ERROR(CloseAllExcept(keep));

  RETURN_IF_ERROR(InstallFilter(plan.bpf, plan.install_flags));

  // From here the filter allows nothing but this exec: no diagnostics.
  syscall(SYS_execveat, plan.exe_fd, "", argv.data(), environ, AT_EMPTY_PATH);
  _exit(kExitExecFailedUnderFilter);
}

}  // namespace fdattest
