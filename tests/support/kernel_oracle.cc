#include "tests/support/kernel_oracle.h"

#include <linux/filter.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <map>

#include "absl/strings/str_cat.h"

namespace fdattest::testing {
namespace {

// Rewritten returns answer errno kErrnoBase + index: far above any errno the
// kernel itself returns, so an answer the filter did not give is recognised.
constexpr uint32_t kErrnoBase = 1024;
constexpr size_t kMaxRets = 4095 - kErrnoBase;
constexpr uint32_t kProbeErrno = 4095;

// Raw system calls that touch no libc state (the child may run nothing else
// once the filter is installed).
inline long RawSyscall64(const SeccompInput& in) {
  long ret;
  register long r10 asm("r10") = static_cast<long>(in.arg(3));
  register long r8 asm("r8") = static_cast<long>(in.arg(4));
  register long r9 asm("r9") = static_cast<long>(in.arg(5));
  asm volatile("syscall"
               : "=a"(ret)
               : "a"(static_cast<long>(static_cast<int32_t>(in.nr()))), "D"(in.arg(0)),
                 "S"(in.arg(1)), "d"(in.arg(2)), "r"(r10), "r"(r8), "r"(r9)
               : "rcx", "r11", "memory");
  return ret;
}

inline long RawSyscall32(const SeccompInput& in) {
  int ret;
  const uint32_t a5 = in.w[ArgLoWord(5)];
  // ebp cannot be named as an operand; it is saved in r12 (not on the stack,
  // which would clobber the red zone) while it carries the sixth argument.
  asm volatile(
      "mov %%rbp, %%r12\n\t"
      "mov %k[a5], %%ebp\n\t"
      "int $0x80\n\t"
      "mov %%r12, %%rbp"
      : "=a"(ret)
      : "a"(in.nr()), "b"(in.w[ArgLoWord(0)]), "c"(in.w[ArgLoWord(1)]), "d"(in.w[ArgLoWord(2)]),
        "S"(in.w[ArgLoWord(3)]), "D"(in.w[ArgLoWord(4)]), [a5] "r"(a5)
      : "r8", "r9", "r10", "r11", "r12", "memory");
  return ret;
}

}  // namespace

absl::StatusOr<KernelOracle> KernelOracle::New(const BpfProgram& program) {
  std::vector<BpfInsn> insns = program.insns();
  std::map<uint32_t, uint32_t> index;
  std::vector<uint32_t> rets;
  for (BpfInsn& in : insns) {
    if (in.code != (BPF_RET | BPF_K)) continue;
    auto [it, inserted] = index.emplace(in.k, static_cast<uint32_t>(rets.size()));
    if (inserted) rets.push_back(in.k);
    if (rets.size() > kMaxRets) return absl::InvalidArgumentError("too many distinct returns");
    in.k = SECCOMP_RET_ERRNO | (kErrnoBase + it->second);
  }
  std::string bytes;
  for (const BpfInsn& in : insns) {
    bytes.append(reinterpret_cast<const char*>(&in.code), 2);
    bytes.push_back(static_cast<char>(in.jt));
    bytes.push_back(static_cast<char>(in.jf));
    bytes.append(reinterpret_cast<const char*>(&in.k), 4);
  }
  return KernelOracle(std::move(bytes), std::move(rets));
}

namespace {

struct ChildRun {
  size_t next = 0;        // first input not answered
  bool finished = false;  // all inputs from `begin` answered
  int status = 0;
};

// Forks a child that installs `filter` and issues inputs[begin..] in order,
// writing each raw result to results[i] and i + 1 to *progress first.
ChildRun RunChild(const std::string& filter, const std::vector<SeccompInput>& inputs,
                  size_t begin, size_t end, long* results, volatile long* progress) {
  std::vector<sock_filter> prog(filter.size() / sizeof(sock_filter));
  memcpy(prog.data(), filter.data(), filter.size());
  sock_fprog fprog{.len = static_cast<unsigned short>(prog.size()), .filter = prog.data()};
  *progress = static_cast<long>(begin);
  pid_t pid = fork();
  if (pid < 0) return {.next = begin, .finished = false, .status = -1};
  if (pid == 0) {
    rlimit no_core{0, 0};
    setrlimit(RLIMIT_CORE, &no_core);
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) _exit(2);
    if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &fprog) != 0) _exit(3);
    for (size_t i = begin; i < end; ++i) {
      *progress = static_cast<long>(i);
      results[i] = inputs[i].arch() == kAuditArchI386 ? RawSyscall32(inputs[i])
                                                      : RawSyscall64(inputs[i]);
    }
    *progress = static_cast<long>(end);
    __builtin_trap();  // exit without a syscall: every syscall is now an errno
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  size_t next = static_cast<size_t>(*progress);
  return {.next = next, .finished = next == end, .status = status};
}

std::string AllErrnoFilter() {
  sock_filter ret = BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | kProbeErrno);
  return std::string(reinterpret_cast<const char*>(&ret), sizeof(ret));
}

}  // namespace

absl::StatusOr<std::vector<std::optional<uint32_t>>> KernelOracle::Run(
    const std::vector<SeccompInput>& inputs) const {
  for (const SeccompInput& in : inputs) {
    if (in.arch() != kAuditArchX86_64 && in.arch() != kAuditArchI386) {
      return absl::InvalidArgumentError("the kernel can only produce x86_64 and i386 inputs");
    }
  }
  const size_t bytes = (inputs.size() + 1) * sizeof(long);
  void* shared = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (shared == MAP_FAILED) return absl::InternalError("mmap of the result area failed");
  long* results = static_cast<long*>(shared);
  volatile long* progress = results + inputs.size();
  std::vector<bool> trapped(inputs.size(), false);
  absl::Status error;
  size_t begin = 0;
  while (begin < inputs.size() && error.ok()) {
    ChildRun run = RunChild(rewritten_, inputs, begin, inputs.size(), results, progress);
    if (run.finished) break;
    // The child died at input run.next: the kernel's doing, not the filter's,
    // only if a filter that refuses everything with an errno dies the same way.
    const size_t i = run.next;
    ChildRun probe = RunChild(AllErrnoFilter(), inputs, i, i + 1, results, progress);
    if (i >= inputs.size() || probe.finished || probe.status != run.status) {
      error = absl::InternalError(absl::StrCat(
          "oracle child died (status ", run.status, ") at input ", i, ": ",
          i < inputs.size() ? inputs[i].DebugString() : "none"));
      break;
    }
    trapped[i] = true;
    begin = i + 1;
  }
  std::vector<std::optional<uint32_t>> out;
  for (size_t i = 0; i < inputs.size() && error.ok(); ++i) {
    if (trapped[i]) {
      out.push_back(std::nullopt);
      continue;
    }
    const long r = results[i];
    const long first = -static_cast<long>(kErrnoBase);
    const long last = -static_cast<long>(kErrnoBase + rets_.size() - 1);
    if (r <= first && r >= last) {
      out.push_back(rets_[static_cast<size_t>(first - r)]);
      continue;
    }
    // Not an answer of the filter: accept it as the kernel's own only if a
    // filter refusing everything is ignored for this input too.
    ChildRun probe = RunChild(AllErrnoFilter(), inputs, i, i + 1, results, progress);
    if (probe.finished && results[i] == -static_cast<long>(kProbeErrno)) {
      error = absl::InternalError(absl::StrCat("input ", i, " (", inputs[i].DebugString(),
                                               ") returned ", r, ", not a rewritten errno"));
      break;
    }
    out.push_back(std::nullopt);
  }
  munmap(shared, bytes);
  if (!error.ok()) return error;
  return out;
}

}  // namespace fdattest::testing
