// Test helper for seccomp_dumper_test.cc: installs filters made with
// libseccomp and writes, before loading each, the exact bytes libseccomp
// generates for it (seccomp_export_bpf), so a dump can be compared byte for byte.
//
//   seccomp_dump_known_filter MODE OUT
//     single  one filter (OUT.0.bpf), then exits 0
//     stack   two filters in one process (OUT.0.bpf loaded first, then OUT.1.bpf)
//     fork    three children, child K loads a filter of its own (OUT.K.bpf); the
//             parent loads none and exits 0 once they have
//     hang    one filter (OUT.0.bpf), a child that inherits it, then both wait
//             forever; their pids in OUT.pids
//     killed  one filter (OUT.0.bpf) that kills the process at its next getppid(),
//             which it then calls
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <seccomp.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace {

[[noreturn]] void Die(const char* what) {
  std::fprintf(stderr, "known_filter_helper: %s: %s\n", what, std::strerror(errno));
  std::_Exit(100);
}

// A filter with a masked flag test, an argument compare and a kill, so the
// bytes are not trivial. `variant` changes one errno, giving distinct filters.
scmp_filter_ctx MakeFilter(int variant) {
  scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
  if (ctx == nullptr) Die("seccomp_init");
  int rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(static_cast<uint16_t>(EPERM + variant)),
                            SCMP_SYS(socket), 1, SCMP_A0(SCMP_CMP_EQ, AF_INET6));
  rc |= seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EINVAL), SCMP_SYS(clone), 1,
                         SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_NEWUSER, CLONE_NEWUSER));
  rc |= seccomp_rule_add(ctx, SCMP_ACT_KILL_PROCESS, SCMP_SYS(ptrace), 0);
  if (rc != 0) Die("seccomp_rule_add");
  return ctx;
}

void ExportAndLoad(scmp_filter_ctx ctx, const std::string& path) {
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) Die("open export file");
  if (seccomp_export_bpf(ctx, fd) != 0) Die("seccomp_export_bpf");
  if (close(fd) != 0) Die("close export file");
  if (seccomp_load(ctx) != 0) Die("seccomp_load");
  seccomp_release(ctx);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s single|stack|fork|hang|killed OUT\n", argv[0]);
    return 2;
  }
  const std::string mode = argv[1], out = argv[2];
  if (mode == "single") {
    ExportAndLoad(MakeFilter(0), out + ".0.bpf");
    return 0;
  }
  if (mode == "stack") {
    ExportAndLoad(MakeFilter(0), out + ".0.bpf");
    ExportAndLoad(MakeFilter(1), out + ".1.bpf");
    return 0;
  }
  if (mode == "fork") {
    for (int k = 0; k < 3; ++k) {
      pid_t pid = fork();
      if (pid < 0) Die("fork");
      if (pid == 0) {
        ExportAndLoad(MakeFilter(k), out + "." + std::to_string(k) + ".bpf");
        std::_Exit(0);
      }
    }
    int status = 0;
    for (int k = 0; k < 3; ++k) {
      if (wait(&status) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) return 1;
    }
    return 0;
  }
  if (mode == "hang") {
    ExportAndLoad(MakeFilter(0), out + ".0.bpf");
    pid_t pid = fork();
    if (pid < 0) Die("fork");
    if (pid == 0) {
      for (;;) pause();
    }
    FILE* f = std::fopen((out + ".pids").c_str(), "w");
    if (f == nullptr) Die("open pids");
    std::fprintf(f, "%d %d\n", static_cast<int>(getpid()), static_cast<int>(pid));
    std::fclose(f);
    for (;;) pause();
  }
  if (mode == "killed") {
    scmp_filter_ctx ctx = MakeFilter(0);
    if (seccomp_rule_add(ctx, SCMP_ACT_KILL_PROCESS, SCMP_SYS(getppid), 0) != 0) Die("rule");
    ExportAndLoad(ctx, out + ".0.bpf");
    syscall(SYS_getppid);
    return 1;  // not reached: the filter kills the process
  }
  std::fprintf(stderr, "unknown mode %s\n", mode.c_str());
  return 2;
}
