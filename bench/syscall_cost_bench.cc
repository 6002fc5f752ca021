// Per-syscall cost of fdlaunch's seccomp filter (docs/BENCHMARKS.md).
//
// One process measures one variant, selected with --variant; a filter cannot be
// removed, so bench/run_all.sh starts one process per variant and compares them:
//   none                no filter
//   allow_all           libseccomp's empty allow-all policy (seccomp_init(ALLOW)
//                       + seccomp_export_bpf); its verdict does not depend on the
//                       arguments, so the kernel's per-syscall action cache
//                       answers without running BPF
//   allow_all_uncached  2 instructions that load args[0] then ALLOW: defeats the
//                       action cache, so BPF runs on every syscall
//   minimal_fd_check    the smallest filter that confines read to one declared
//                       fd (11 instructions: arch, nr == read, args[0] == 3 as
//                       a 64-bit value, else EBADF; every other syscall
//                       allowed, so only read runs BPF): the floor of any
//                       filter that checks read's descriptor
//   fdlaunch            CompileFilter() for a realistic 5-fd spec, installed with
//                       InstallFilter() exactly as the launcher does
// The measured fds are declared in the spec: fd 3 = /dev/zero (r), fd 4 =
// /dev/null (w). Output goes to stdout (fd 1, declared w): under the fdlaunch
// filter the process can no longer open files, so use --benchmark_format=json
// with a shell redirect rather than --benchmark_out.
#include <benchmark/benchmark.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstddef>
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "common/unique_fd.h"
#include "launcher/filter.h"

namespace {

constexpr int kZeroFd = 3;        // declared r: read(kZeroFd, buf, 1)
constexpr int kNullFd = 4;        // declared w: write(kNullFd, buf, 1)
constexpr int kUndeclaredFd = 5;  // open but not declared: must get EBADF under fdlaunch

// Set when a measured call fails; main() then exits non-zero so that the
// driver never averages a failing (and therefore fast) syscall.
bool g_failed = false;

void Fail(benchmark::State& state, const char* what) {
  g_failed = true;
  std::fprintf(stderr, "syscall_cost_bench: %s: %s\n", what, std::strerror(errno));
  state.SkipWithError(what);
}

void BM_Read1(benchmark::State& state) {
  char buf[1];
  for (auto _ : state) {
    ssize_t n = read(kZeroFd, buf, 1);
    benchmark::DoNotOptimize(n);
    if (n != 1) {
      Fail(state, "read(/dev/zero, 1)");
      break;
    }
  }
}
BENCHMARK(BM_Read1);

void BM_Write1(benchmark::State& state) {
  const char buf[1] = {'x'};
  for (auto _ : state) {
    ssize_t n = write(kNullFd, buf, 1);
    benchmark::DoNotOptimize(n);
    if (n != 1) {
      Fail(state, "write(/dev/null, 1)");
      break;
    }
  }
}
BENCHMARK(BM_Write1);

[[noreturn]] void Die(const std::string& what) {
  std::fprintf(stderr, "syscall_cost_bench: %s\n", what.c_str());
  std::fflush(stderr);
  _exit(3);
}

// Opens `path` at exactly `target` (which stays open for the process' life).
void OpenAt(const char* path, int flags, int target) {
  fdattest::UniqueFd fd(open(path, flags | O_CLOEXEC));
  if (!fd) Die(std::string("open ") + path + ": " + std::strerror(errno));
  if (fd.get() == target) {
    fd.release();
    return;
  }
  if (dup2(fd.get(), target) != target) Die(std::string("dup2: ") + std::strerror(errno));
}

std::string LibseccompAllowAll() {
  scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
  if (ctx == nullptr) Die("seccomp_init failed");
  fdattest::UniqueFd mem(memfd_create("allow_all_bpf", MFD_CLOEXEC));
  if (!mem) Die(std::string("memfd_create: ") + std::strerror(errno));
  int rc = seccomp_export_bpf(ctx, mem.get());
  seccomp_release(ctx);
  if (rc != 0) Die("seccomp_export_bpf failed: " + std::to_string(rc));
  std::string bpf;
  char chunk[4096];
  ssize_t n;
  while ((n = pread(mem.get(), chunk, sizeof(chunk), static_cast<off_t>(bpf.size()))) > 0) {
    bpf.append(chunk, static_cast<size_t>(n));
  }
  if (n < 0) Die(std::string("pread: ") + std::strerror(errno));
  return bpf;
}

std::string UncachedAllowAll() {
  const sock_filter prog[] = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, args[0])),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  return std::string(reinterpret_cast<const char*>(prog), sizeof(prog));
}

// The checks docs/filter.md's rules demand of any filter, for read alone:
// foreign arch and x32 killed, read only on the declared fd (low 32 bits, as
// the kernel takes it). 10 instructions; read runs 8 of them.
std::string MinimalFdCheck() {
  const sock_filter prog[] = {
      /* 0 */ BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, arch)),
      /* 1 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 0, 6),  // else 8: kill
      /* 2 */ BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)),
      /* 3 */ BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, 0x40000000, 4, 0),  // x32: 8, kill
      /* 4 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_read, 0, 2),  // else 7: allow
      /* 5 */ BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, args[0])),
      /* 6 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, kZeroFd, 0, 2),  // else 9: EBADF
      /* 7 */ BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
      /* 8 */ BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
      /* 9 */ BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EBADF),
  };
  return std::string(reinterpret_cast<const char*>(prog), sizeof(prog));
}

std::string FdlaunchFilter() {
  fdattest::FilterSpec spec;
  // The launch benchmark's profile shape: input, output, audit log, two more.
  spec.fds = {{0, fdattest::Access::kRead},
              {1, fdattest::Access::kWrite},
              {2, fdattest::Access::kAppend},
              {kZeroFd, fdattest::Access::kRead},
              {kNullFd, fdattest::Access::kWrite}};
  spec.on_violation = fdattest::OnViolation::kErrno;
  spec.exec_fd = -1;
  absl::StatusOr<std::string> bpf = fdattest::CompileFilter(spec);
  if (!bpf.ok()) Die("CompileFilter: " + std::string(bpf.status().ToString()));
  return *std::move(bpf);
}

void Install(const std::string& bpf) {
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
    Die(std::string("PR_SET_NO_NEW_PRIVS: ") + std::strerror(errno));
  }
  absl::Status st = fdattest::InstallFilter(bpf, 0);
  if (!st.ok()) Die("InstallFilter: " + std::string(st.ToString()));
}

// Fails loudly if the installed filter does not behave as the variant expects,
// so a broken filter can never produce a (fast) number.
void CheckFilterActive(std::string_view variant) {
  char buf[1];
  errno = 0;
  ssize_t n = read(kUndeclaredFd, buf, 1);
  int read_errno = errno;
  errno = 0;
  int open_rc = open("/dev/null", O_RDONLY | O_CLOEXEC);
  int open_errno = errno;
  fdattest::UniqueFd opened(open_rc);
  if (variant == "fdlaunch" || variant == "minimal_fd_check") {
    if (n != -1 || read_errno != EBADF) {
      Die(std::string(variant) + " filter: read on undeclared fd " + std::to_string(kUndeclaredFd) + " returned " +
          std::to_string(n) + " errno " + std::to_string(read_errno) + " (contract: EBADF)");
    }
    if (variant == "minimal_fd_check") {
      if (open_rc < 0) Die("minimal_fd_check: open failed, but only read is checked");
    } else if (open_rc != -1 || open_errno != EPERM) {
      Die("fdlaunch filter: open returned " + std::to_string(open_rc) + " errno " +
          std::to_string(open_errno) + " (contract: EPERM)");
    }
  } else {
    if (n != 1) Die("read on fd " + std::to_string(kUndeclaredFd) + " failed without fdlaunch");
    if (open_rc < 0) Die("open failed without fdlaunch's filter");
    if (variant != "none" && prctl(PR_GET_SECCOMP) != 2) Die("no seccomp filter installed");
  }
}

}  // namespace

int main(int argc, char** argv) {
  std::string variant = "none";
  std::vector<char*> args;
  for (int i = 0; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg.substr(0, 10) == "--variant=") {
      variant = std::string(arg.substr(10));
    } else {
      args.push_back(argv[i]);
    }
  }
  int args_count = static_cast<int>(args.size());
  args.push_back(nullptr);
  benchmark::Initialize(&args_count, args.data());
  if (benchmark::ReportUnrecognizedArguments(args_count, args.data())) return 2;

  OpenAt("/dev/zero", O_RDONLY, kZeroFd);
  OpenAt("/dev/null", O_WRONLY, kNullFd);
  OpenAt("/dev/zero", O_RDONLY, kUndeclaredFd);

  std::string bpf;
  if (variant == "allow_all") {
    bpf = LibseccompAllowAll();
  } else if (variant == "allow_all_uncached") {
    bpf = UncachedAllowAll();
  } else if (variant == "minimal_fd_check") {
    bpf = MinimalFdCheck();
  } else if (variant == "fdlaunch") {
    bpf = FdlaunchFilter();
  } else if (variant != "none") {
    Die("unknown --variant=" + variant +
        " (none, allow_all, allow_all_uncached, minimal_fd_check, fdlaunch)");
  }
  benchmark::AddCustomContext("variant", variant);
  benchmark::AddCustomContext("filter_instructions",
                              std::to_string(bpf.size() / sizeof(sock_filter)));

  // The library reads /proc and /sys lazily for its report header; do it now,
  // before the filter refuses opens.
  (void)benchmark::CPUInfo::Get();
  (void)benchmark::SystemInfo::Get();

  if (!bpf.empty()) Install(bpf);
  CheckFilterActive(variant);

  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return g_failed ? 1 : 0;
}
