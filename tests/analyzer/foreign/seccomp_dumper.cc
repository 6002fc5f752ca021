#include "tests/analyzer/foreign/seccomp_dumper.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/file_io.h"
#include "common/json.h"
#include "common/sha256.h"
#include "common/unique_fd.h"

namespace fdattest::foreign {
namespace {

volatile sig_atomic_t g_alarm = 0;
void OnAlarm(int) { g_alarm = 1; }

constexpr unsigned kTraceOptions = PTRACE_O_TRACEEXIT | PTRACE_O_TRACEFORK | PTRACE_O_TRACEVFORK |
                                   PTRACE_O_TRACECLONE | PTRACE_O_TRACEEXEC |
                                   PTRACE_O_TRACESYSGOOD | PTRACE_O_EXITKILL;
constexpr size_t kMaxCmdline = 200;

std::string ReadProcText(pid_t pid, const char* what, size_t cap) {
  auto text = ReadFileHead(absl::StrCat("/proc/", pid, "/", what), cap);
  if (!text.ok()) return "";
  std::string s = text->substr(0, cap);
  for (char& c : s) {
    if (c == '\0') c = ' ';
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\n')) s.pop_back();
  return s;
}

std::string ReadExe(pid_t pid) {
  char buf[4096];
  ssize_t n = readlink(absl::StrCat("/proc/", pid, "/exe").c_str(), buf, sizeof(buf) - 1);
  return n > 0 ? std::string(buf, static_cast<size_t>(n)) : "";
}

const char* EventName(int event) {
  switch (event) {
    case PTRACE_EVENT_FORK:
      return "fork";
    case PTRACE_EVENT_VFORK:
      return "vfork";
    case PTRACE_EVENT_CLONE:
      return "clone";
    case PTRACE_EVENT_EXEC:
      return "exec";
    case PTRACE_EVENT_EXIT:
      return "exit";
    case PTRACE_EVENT_STOP:
      return "stop";
    default:
      return "event";
  }
}

// Makes this process the reaper of its descendants' orphans for its lifetime,
// then puts the previous setting back.
class SubreaperScope {
 public:
  SubreaperScope() {
    prctl(PR_GET_CHILD_SUBREAPER, &was_);
    prctl(PR_SET_CHILD_SUBREAPER, 1);
  }
  ~SubreaperScope() { prctl(PR_SET_CHILD_SUBREAPER, was_); }
  SubreaperScope(const SubreaperScope&) = delete;
  SubreaperScope& operator=(const SubreaperScope&) = delete;

 private:
  int was_ = 0;
};

// The tracing loop's state: every tracee, and what was read so far.
class Tracer {
 public:
  explicit Tracer(const DumpOptions& options) : options_(options) {}

  absl::StatusOr<DumpResult> Run();

 private:
  void ReadFilters(pid_t pid, const char* point);
  void Resume(pid_t pid, int signal);
  void HandleStop(pid_t pid, int status);
  void InterruptAllAndKill();

  const DumpOptions& options_;
  DumpResult result_;
  pid_t root_ = -1;
  std::set<pid_t> live_;
  std::set<pid_t> seen_;
  std::map<std::string, int> position_of_;  // sha256 hex -> index in filters
  std::map<int, std::set<pid_t>> pids_of_;  // filter position -> pids
  std::set<std::vector<int>> stacks_seen_;
  std::map<pid_t, bool> pending_install_;  // syscall entry was seccomp/prctl
};

void Tracer::ReadFilters(pid_t pid, const char* point) {
  std::vector<std::string> stack;
  for (long index = 0;; ++index) {
    long count = ptrace(PTRACE_SECCOMP_GET_FILTER, pid, reinterpret_cast<void*>(index), nullptr);
    if (count < 0) {
      // ENOENT: past the oldest filter. EINVAL: no filter mode at all.
      // ESRCH: the process is gone. Anything else is worth a note.
      if (errno != ENOENT && errno != EINVAL && errno != ESRCH) {
        result_.notes.push_back(
            absl::StrCat("pid ", pid, " filter ", index, " at ", point, ": ", strerror(errno)));
      }
      break;
    }
    std::string bytes(static_cast<size_t>(count) * sizeof(sock_filter), '\0');
    long again =
        ptrace(PTRACE_SECCOMP_GET_FILTER, pid, reinterpret_cast<void*>(index), bytes.data());
    if (again != count) {
      result_.notes.push_back(absl::StrCat("pid ", pid, " filter ", index, " at ", point,
                                           ": size changed or read failed"));
      break;
    }
    stack.push_back(std::move(bytes));
  }
  if (stack.empty()) return;
  std::vector<int> positions;
  for (size_t i = 0; i < stack.size(); ++i) {
    std::string hex = HexEncode(Sha256(stack[i]));
    auto [it, inserted] = position_of_.emplace(hex, static_cast<int>(result_.filters.size()));
    if (inserted) {
      DumpedFilter f;
      f.instructions = stack[i].size() / sizeof(sock_filter);
      f.bytes = std::move(stack[i]);
      f.sha256_hex = hex;
      f.first = Sighting{pid,
                         ReadExe(pid),
                         ReadProcText(pid, "comm", 64),
                         ReadProcText(pid, "cmdline", kMaxCmdline),
                         point,
                         static_cast<int>(i),
                         static_cast<int>(stack.size())};
      result_.filters.push_back(std::move(f));
    }
    pids_of_[it->second].insert(pid);
    positions.push_back(it->second);
  }
  if (stacks_seen_.insert(positions).second) result_.stacks.push_back(positions);
}

void Tracer::Resume(pid_t pid, int signal) {
  int request = options_.after_each_install ? PTRACE_SYSCALL : PTRACE_CONT;
  if (ptrace(static_cast<__ptrace_request>(request), pid, nullptr,
             reinterpret_cast<void*>(static_cast<long>(signal))) != 0) {
    // ESRCH: killed meanwhile (e.g. by a seccomp kill); its exit is reaped later.
  }
}

void Tracer::HandleStop(pid_t pid, int status) {
  int sig = WSTOPSIG(status);
  int event = status >> 16;
  if (event != 0) {
    ReadFilters(pid, EventName(event));
    if (event == PTRACE_EVENT_FORK || event == PTRACE_EVENT_VFORK || event == PTRACE_EVENT_CLONE) {
      unsigned long child = 0;
      if (ptrace(PTRACE_GETEVENTMSG, pid, nullptr, &child) == 0 && child > 0) {
        live_.insert(static_cast<pid_t>(child));
        seen_.insert(static_cast<pid_t>(child));
      }
    } else if (event == PTRACE_EVENT_EXEC) {
      // A thread other than the leader that executes takes the leader's id;
      // its own id is gone without an exit report. Forget it, so the timeout
      // never signals a number the system may have handed out again.
      unsigned long former = 0;
      if (ptrace(PTRACE_GETEVENTMSG, pid, nullptr, &former) == 0 &&
          static_cast<pid_t>(former) != pid) {
        live_.erase(static_cast<pid_t>(former));
        pending_install_.erase(static_cast<pid_t>(former));
      }
    }
    Resume(pid, 0);  // event stops and PTRACE_EVENT_STOP never carry a signal to deliver
    return;
  }
  if (sig == (SIGTRAP | 0x80)) {
    __ptrace_syscall_info info{};
    long n = ptrace(PTRACE_GET_SYSCALL_INFO, pid, reinterpret_cast<void*>(sizeof(info)), &info);
    if (n > 0 && info.op == PTRACE_SYSCALL_INFO_ENTRY) {
      pending_install_[pid] = info.entry.nr == SYS_seccomp ||
                              (info.entry.nr == SYS_prctl && info.entry.args[0] == PR_SET_SECCOMP);
    } else if (n > 0 && info.op == PTRACE_SYSCALL_INFO_EXIT && pending_install_[pid]) {
      pending_install_[pid] = false;
      if (!info.exit.is_error) ReadFilters(pid, "install");
    }
    Resume(pid, 0);
    return;
  }
  Resume(pid, sig);  // a signal for the tracee: deliver it
}

// Interrupts every tracee, reads its filters at the interrupt stop (waiting at
// most two seconds for the stops), then kills every tracee.
void Tracer::InterruptAllAndKill() {
  result_.timed_out = true;
  for (pid_t pid : live_) ptrace(PTRACE_INTERRUPT, pid, nullptr, nullptr);
  std::set<pid_t> waiting = live_;
  g_alarm = 0;
  alarm(2);
  while (!waiting.empty() && !g_alarm) {
    int status = 0;
    pid_t pid = waitpid(-1, &status, __WALL);
    if (pid < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if (WIFEXITED(status) || WIFSIGNALED(status)) {
      live_.erase(pid);
      waiting.erase(pid);
      if (pid == root_) {
        result_.root_ended = true;
        result_.root_wait_status = status;
      }
      continue;
    }
    if (WIFSTOPPED(status)) {
      ReadFilters(pid, "timeout");
      waiting.erase(pid);  // left stopped until the kill
    }
  }
  alarm(0);
  for (pid_t pid : live_) kill(pid, SIGKILL);
  // Its process group too, while the command's id is still held (not reaped).
  if (root_ > 0 && !result_.root_ended) kill(-root_, SIGKILL);
}

absl::StatusOr<DumpResult> Tracer::Run() {
  if (options_.argv.empty()) return absl::InvalidArgumentError("no command to run");
  int go[2];
  if (pipe2(go, O_CLOEXEC) != 0) return ErrnoStatus("pipe2", errno);
  UniqueFd go_read(go[0]), go_write(go[1]);
  std::vector<char*> argv;
  for (const std::string& a : options_.argv) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);

  // Orphans of the command come to this process, so all of them are reaped.
  SubreaperScope subreaper;
  root_ = fork();
  if (root_ < 0) return ErrnoStatus("fork", errno);
  if (root_ == 0) {
    setpgid(0, 0);
    char byte;
    go_write.reset();
    if (read(go_read.get(), &byte, 1) != 1) _exit(126);
    execvp(argv[0], argv.data());
    _exit(127);
  }
  setpgid(root_, root_);
  go_read.reset();
  if (ptrace(PTRACE_SEIZE, root_, nullptr, reinterpret_cast<void*>(uintptr_t{kTraceOptions})) !=
      0) {
    absl::Status status = ErrnoStatus("PTRACE_SEIZE", errno);
    kill(root_, SIGKILL);
    waitpid(root_, nullptr, 0);
    return status;
  }
  live_.insert(root_);
  seen_.insert(root_);
  if (write(go_write.get(), "g", 1) != 1) {
    kill(root_, SIGKILL);
    waitpid(root_, nullptr, 0);
    return ErrnoStatus("start the command", errno);
  }
  go_write.reset();

  struct sigaction action {};
  action.sa_handler = OnAlarm;  // no SA_RESTART: waitpid returns EINTR
  struct sigaction old_action {};
  sigaction(SIGALRM, &action, &old_action);
  g_alarm = 0;
  alarm(static_cast<unsigned>(options_.timeout_seconds));
  for (;;) {
    if (g_alarm) {
      InterruptAllAndKill();
      g_alarm = 0;
    }
    int status = 0;
    pid_t pid = waitpid(-1, &status, __WALL);
    if (pid < 0) {
      if (errno == EINTR) continue;
      break;  // ECHILD: every process is gone
    }
    if (!seen_.count(pid)) {
      seen_.insert(pid);
      live_.insert(pid);
    }
    if (WIFEXITED(status) || WIFSIGNALED(status)) {
      live_.erase(pid);
      pending_install_.erase(pid);
      if (pid == root_) {
        result_.root_ended = true;
        result_.root_wait_status = status;
      }
      continue;
    }
    if (WIFSTOPPED(status)) {
      if (result_.timed_out) {
        // Killed tracees still stop at PTRACE_EVENT_EXIT: let each one go.
        kill(pid, SIGKILL);
        ptrace(PTRACE_CONT, pid, nullptr, nullptr);
        continue;
      }
      HandleStop(pid, status);
    }
  }
  alarm(0);
  sigaction(SIGALRM, &old_action, nullptr);
  result_.processes_traced = static_cast<int>(seen_.size());
  for (auto& [position, pids] : pids_of_) {
    result_.filters[static_cast<size_t>(position)].processes = static_cast<int>(pids.size());
  }
  return std::move(result_);
}

Json SightingJson(const Sighting& s) {
  return Json{{"pid", s.pid},     {"exe", s.exe},     {"comm", s.comm},  {"cmdline", s.cmdline},
              {"point", s.point}, {"index", s.index}, {"depth", s.depth}};
}

}  // namespace

absl::StatusOr<DumpResult> DumpFilters(const DumpOptions& options) {
  Tracer tracer(options);
  return tracer.Run();
}

absl::Status WriteDump(const DumpResult& result, const DumpOptions& options,
                       const std::map<std::string, std::string>& labels, const std::string& dir,
                       const std::string& name) {
  if (mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) return ErrnoStatus("mkdir " + dir, errno);
  Json filters = Json::array();
  for (size_t k = 0; k < result.filters.size(); ++k) {
    const DumpedFilter& f = result.filters[k];
    std::string file = absl::StrCat(name, ".", k, ".bpf");
    RETURN_IF_ERROR(WriteFileAtomic(dir + "/" + file, f.bytes));
    filters.push_back(Json{{"file", file},
                           {"sha256", f.sha256_hex},
                           {"instructions", f.instructions},
                           {"processes", f.processes},
                           {"first_seen", SightingJson(f.first)}});
  }
  Json doc{{"command", options.argv},
           {"labels", labels},
           {"filters", filters},
           {"stacks", result.stacks},
           {"processes_traced", result.processes_traced},
           {"timed_out", result.timed_out},
           {"timeout_seconds", options.timeout_seconds},
           {"notes", result.notes}};
  if (result.root_ended && WIFEXITED(result.root_wait_status)) {
    doc["exit_status"] = WEXITSTATUS(result.root_wait_status);
  } else if (result.root_ended && WIFSIGNALED(result.root_wait_status)) {
    doc["exit_signal"] = WTERMSIG(result.root_wait_status);
  }
  return WriteFileAtomic(dir + "/" + name + ".json", doc.dump(2) + "\n");
}

}  // namespace fdattest::foreign
