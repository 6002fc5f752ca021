// Benchmark helper: prepares seccomp filter bytes for the bwrap comparison in
// bench/launch_overhead.sh. Not part of the launcher; never used in production.
//
//   bench_filter_tool allow-execve IN OUT   prepend "x86_64 execve -> ALLOW" to
//                                           the raw filter IN (fdlaunch --filter-out)
//   bench_filter_tool compile OUT           CompileFilter() for the same 5-fd set
//                                           as the launch profile (fallback/check)
//
// Why the prologue: fdlaunch's filter allows only its own one-shot execveat and
// refuses execve, but bwrap installs the filter and then calls execve itself.
// Prepending five instructions (arch check, nr == execve, ALLOW) keeps every
// other verdict identical and adds a few instructions per syscall.
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/syscall.h>

#include <cstddef>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <string>
#include <string_view>

#include "launcher/filter.h"

namespace {

constexpr size_t kMaxInstructions = 4096;  // BPF_MAXINSNS

bool ReadFile(const char* path, std::string* out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  out->assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  return !in.bad();
}

bool WriteFile(const char* path, std::string_view bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  return static_cast<bool>(out.flush());
}

std::string Prologue() {
  const sock_filter prologue[] = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, arch)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 0, 3),
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_execve, 0, 1),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
      // falls through (and both jf targets land) on the original program
  };
  return std::string(reinterpret_cast<const char*>(prologue), sizeof(prologue));
}

int Usage() {
  std::fprintf(stderr,
               "usage: bench_filter_tool allow-execve IN OUT\n"
               "       bench_filter_tool compile OUT\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) return Usage();
  const std::string_view mode = argv[1];
  if (mode == "allow-execve" && argc == 4) {
    std::string bpf;
    if (!ReadFile(argv[2], &bpf)) {
      std::fprintf(stderr, "bench_filter_tool: cannot read %s\n", argv[2]);
      return 1;
    }
    if (bpf.empty() || bpf.size() % sizeof(sock_filter) != 0) {
      std::fprintf(stderr, "bench_filter_tool: %s is %zu bytes, not a BPF program\n", argv[2],
                   bpf.size());
      return 1;
    }
    std::string out = Prologue() + bpf;
    if (out.size() / sizeof(sock_filter) > kMaxInstructions) {
      std::fprintf(stderr, "bench_filter_tool: program too long with the prologue\n");
      return 1;
    }
    if (!WriteFile(argv[3], out)) {
      std::fprintf(stderr, "bench_filter_tool: cannot write %s\n", argv[3]);
      return 1;
    }
    return 0;
  }
  if (mode == "compile" && argc == 3) {
    fdattest::FilterSpec spec;
    spec.fds = {{0, fdattest::Access::kRead},
                {1, fdattest::Access::kWrite},
                {2, fdattest::Access::kAppend},
                {3, fdattest::Access::kRead},
                {4, fdattest::Access::kRead}};
    absl::StatusOr<std::string> bpf = fdattest::CompileFilter(spec);
    if (!bpf.ok()) {
      std::fprintf(stderr, "bench_filter_tool: CompileFilter: %s\n",
                   std::string(bpf.status().ToString()).c_str());
      return 1;
    }
    if (!WriteFile(argv[2], *bpf)) {
      std::fprintf(stderr, "bench_filter_tool: cannot write %s\n", argv[2]);
      return 1;
    }
    return 0;
  }
  return Usage();
}
