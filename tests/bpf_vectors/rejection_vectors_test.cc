// Rejection vectors (rejections.txt): every malformed or out-of-subset
// program is refused by BpfProgram::Decode with the expected instruction and
// reason; CheckKernelAcceptance says what the kernel itself would do, and for
// vectors marked `live` the running kernel is asked and must agree.
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/bpf.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace fdattest {
namespace {

using ::testing::HasSubstr;

enum class KernelVerdict { kReject, kAccept, kWire };

struct RejectionVector {
  std::string name;
  std::string bytes;
  KernelVerdict kernel = KernelVerdict::kReject;
  bool live = false;
  std::vector<std::string> expect;
  std::string load_error;  // non-empty: the vector file itself is broken
};
void PrintTo(const RejectionVector& v, std::ostream* os) { *os << v.name; }

// ---- A small assembler for the vector file ---------------------------------

absl::StatusOr<uint32_t> Number(absl::string_view s) {
  std::string t(absl::StripAsciiWhitespace(s));
  if (t.empty()) return absl::InvalidArgumentError("missing number");
  char* end = nullptr;
  errno = 0;
  unsigned long long v = strtoull(t.c_str(), &end, 0);
  if (errno != 0 || *end != '\0' || v > 0xffffffffULL) {
    return absl::InvalidArgumentError(absl::StrCat("bad number '", t, "'"));
  }
  return static_cast<uint32_t>(v);
}

// "[k]" -> k, "M[k]" -> k, "#k" -> k.
absl::StatusOr<uint32_t> Bracketed(absl::string_view s, absl::string_view prefix) {
  if (!absl::ConsumePrefix(&s, prefix) || !absl::ConsumeSuffix(&s, "]")) {
    return absl::InvalidArgumentError(absl::StrCat("expected ", prefix, "k]"));
  }
  return Number(s);
}

absl::StatusOr<BpfInsn> Assemble(absl::string_view line) {
  std::vector<std::string> tok = absl::StrSplit(line, absl::ByAnyChar(" \t,"), absl::SkipEmpty());
  if (tok.empty()) return absl::InvalidArgumentError("empty instruction");
  const std::string& op = tok[0];
  auto arg = [&](size_t i) -> absl::string_view {
    return i < tok.size() ? absl::string_view(tok[i]) : absl::string_view();
  };
  auto make = [](uint16_t code, uint32_t k, uint8_t jt = 0, uint8_t jf = 0) {
    return BpfInsn{.code = code, .jt = jt, .jf = jf, .k = k};
  };
  if (op == "raw") {
    if (tok.size() != 5) return absl::InvalidArgumentError("raw needs code jt jf k");
    ASSIGN_OR_RETURN(uint32_t code, Number(arg(1)));
    ASSIGN_OR_RETURN(uint32_t jt, Number(arg(2)));
    ASSIGN_OR_RETURN(uint32_t jf, Number(arg(3)));
    ASSIGN_OR_RETURN(uint32_t k, Number(arg(4)));
    if (code > 0xffff || jt > 0xff || jf > 0xff) return absl::InvalidArgumentError("raw field too wide");
    return make(static_cast<uint16_t>(code), k, static_cast<uint8_t>(jt), static_cast<uint8_t>(jf));
  }
  if (op == "ld" || op == "ldh" || op == "ldb") {
    const uint16_t size = op == "ld" ? BPF_W : op == "ldh" ? BPF_H : BPF_B;
    absl::string_view a = arg(1);
    if (absl::StartsWith(a, "[x+")) {
      ASSIGN_OR_RETURN(uint32_t k, Bracketed(a, "[x+"));
      return make(BPF_LD | size | BPF_IND, k);
    }
    if (absl::StartsWith(a, "[")) {
      ASSIGN_OR_RETURN(uint32_t k, Bracketed(a, "["));
      return make(BPF_LD | size | BPF_ABS, k);
    }
    if (op == "ld" && a == "#len") return make(BPF_LD | BPF_W | BPF_LEN, 0);
    if (op == "ld" && absl::StartsWith(a, "#")) {
      ASSIGN_OR_RETURN(uint32_t k, Number(a.substr(1)));
      return make(BPF_LD | BPF_IMM, k);
    }
    if (op == "ld" && absl::StartsWith(a, "M[")) {
      ASSIGN_OR_RETURN(uint32_t k, Bracketed(a, "M["));
      return make(BPF_LD | BPF_MEM, k);
    }
  }
  if (op == "ldx") {
    absl::string_view a = arg(1);
    if (a == "#len") return make(BPF_LDX | BPF_W | BPF_LEN, 0);
    if (absl::StartsWith(a, "#")) {
      ASSIGN_OR_RETURN(uint32_t k, Number(a.substr(1)));
      return make(BPF_LDX | BPF_IMM, k);
    }
    if (absl::StartsWith(a, "M[")) {
      ASSIGN_OR_RETURN(uint32_t k, Bracketed(a, "M["));
      return make(BPF_LDX | BPF_MEM, k);
    }
  }
  if (op == "ldxb") {  // ldxb 4*([k]&0xf)
    absl::string_view a = arg(1);
    if (absl::ConsumePrefix(&a, "4*([") && absl::ConsumeSuffix(&a, "]&0xf)")) {
      ASSIGN_OR_RETURN(uint32_t k, Number(a));
      return make(BPF_LDX | BPF_B | BPF_MSH, k);
    }
  }
  if (op == "st" || op == "stx") {
    ASSIGN_OR_RETURN(uint32_t k, Bracketed(arg(1), "M["));
    return make(op == "st" ? BPF_ST : BPF_STX, k);
  }
  if (op == "tax") return make(BPF_MISC | BPF_TAX, 0);
  if (op == "txa") return make(BPF_MISC | BPF_TXA, 0);
  if (op == "neg") return make(BPF_ALU | BPF_NEG, 0);
  static const std::pair<const char*, uint16_t> kAlu[] = {
      {"add", BPF_ADD}, {"sub", BPF_SUB}, {"mul", BPF_MUL}, {"div", BPF_DIV}, {"mod", BPF_MOD},
      {"and", BPF_AND}, {"or", BPF_OR},   {"xor", BPF_XOR}, {"lsh", BPF_LSH}, {"rsh", BPF_RSH}};
  for (const auto& [name, alu] : kAlu) {
    if (op != name) continue;
    if (arg(1) == "x") return make(BPF_ALU | alu | BPF_X, 0);
    if (absl::StartsWith(arg(1), "#")) {
      ASSIGN_OR_RETURN(uint32_t k, Number(arg(1).substr(1)));
      return make(BPF_ALU | alu | BPF_K, k);
    }
  }
  if (op == "ja") {
    ASSIGN_OR_RETURN(uint32_t k, Number(arg(1)));
    return make(BPF_JMP | BPF_JA, k);
  }
  static const std::pair<const char*, uint16_t> kJmp[] = {
      {"jeq", BPF_JEQ}, {"jgt", BPF_JGT}, {"jge", BPF_JGE}, {"jset", BPF_JSET}};
  for (const auto& [name, jmp] : kJmp) {
    if (op != name) continue;
    if (tok.size() != 4) return absl::InvalidArgumentError("conditional jump needs k, jt, jf");
    ASSIGN_OR_RETURN(uint32_t jt, Number(arg(2)));
    ASSIGN_OR_RETURN(uint32_t jf, Number(arg(3)));
    if (jt > 0xff || jf > 0xff) return absl::InvalidArgumentError("jump offset too wide");
    if (arg(1) == "x") {
      return make(BPF_JMP | jmp | BPF_X, 0, static_cast<uint8_t>(jt), static_cast<uint8_t>(jf));
    }
    if (absl::StartsWith(arg(1), "#")) {
      ASSIGN_OR_RETURN(uint32_t k, Number(arg(1).substr(1)));
      return make(BPF_JMP | jmp | BPF_K, k, static_cast<uint8_t>(jt), static_cast<uint8_t>(jf));
    }
  }
  if (op == "ret") {
    if (arg(1) == "a") return make(BPF_RET | BPF_A, 0);
    if (absl::StartsWith(arg(1), "#")) {
      ASSIGN_OR_RETURN(uint32_t k, Number(arg(1).substr(1)));
      return make(BPF_RET | BPF_K, k);
    }
  }
  return absl::InvalidArgumentError(absl::StrCat("cannot assemble '", line, "'"));
}

void AppendInsn(std::string* out, const BpfInsn& in) {
  const uint8_t b[8] = {static_cast<uint8_t>(in.code), static_cast<uint8_t>(in.code >> 8), in.jt,
                        in.jf,
                        static_cast<uint8_t>(in.k),
                        static_cast<uint8_t>(in.k >> 8),
                        static_cast<uint8_t>(in.k >> 16),
                        static_cast<uint8_t>(in.k >> 24)};
  out->append(reinterpret_cast<const char*>(b), sizeof(b));
}

absl::Status AppendHex(std::string* out, absl::string_view hex) {
  std::string digits;
  for (char c : hex) {
    if (!absl::ascii_isspace(static_cast<unsigned char>(c))) digits.push_back(c);
  }
  if (digits.size() % 2 != 0) return absl::InvalidArgumentError("odd number of hex digits");
  for (size_t i = 0; i < digits.size(); i += 2) {
    ASSIGN_OR_RETURN(uint32_t byte, Number(absl::StrCat("0x", digits.substr(i, 2))));
    out->push_back(static_cast<char>(byte));
  }
  return absl::OkStatus();
}

absl::Status ParseBlock(const std::vector<std::string>& lines, RejectionVector* v) {
  bool have_kernel = false;
  for (const std::string& raw : lines) {
    absl::string_view line = absl::StripAsciiWhitespace(raw);
    std::string where = v->name.empty() ? "" : absl::StrCat(" (vector ", v->name, ")");
    if (absl::ConsumePrefix(&line, "name:")) {
      v->name = std::string(absl::StripAsciiWhitespace(line));
    } else if (absl::ConsumePrefix(&line, "kernel:")) {
      line = absl::StripAsciiWhitespace(line);
      have_kernel = true;
      if (line == "reject") {
        v->kernel = KernelVerdict::kReject;
      } else if (line == "accept") {
        v->kernel = KernelVerdict::kAccept;
      } else if (line == "wire") {
        v->kernel = KernelVerdict::kWire;
      } else {
        return absl::InvalidArgumentError(absl::StrCat("bad kernel: ", line, where));
      }
    } else if (absl::ConsumePrefix(&line, "live:")) {
      v->live = absl::StripAsciiWhitespace(line) == "yes";
    } else if (absl::ConsumePrefix(&line, "expect:")) {
      v->expect.emplace_back(absl::StripAsciiWhitespace(line));
    } else if (absl::ConsumePrefix(&line, "hex:")) {
      RETURN_IF_ERROR(AppendHex(&v->bytes, line));
    } else if (absl::ConsumePrefix(&line, "repeat ")) {
      std::pair<std::string, std::string> parts =
          absl::StrSplit(absl::StripAsciiWhitespace(line), absl::MaxSplits(' ', 1));
      ASSIGN_OR_RETURN(uint32_t n, Number(parts.first));
      auto insn = Assemble(parts.second);
      if (!insn.ok()) return absl::InvalidArgumentError(absl::StrCat(insn.status().message(), where));
      for (uint32_t i = 0; i < n; ++i) AppendInsn(&v->bytes, *insn);
    } else {
      auto insn = Assemble(line);
      if (!insn.ok()) return absl::InvalidArgumentError(absl::StrCat(insn.status().message(), where));
      AppendInsn(&v->bytes, *insn);
    }
  }
  if (v->name.empty()) return absl::InvalidArgumentError("a block has no name");
  for (char c : v->name) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '_') {
      return absl::InvalidArgumentError(absl::StrCat("bad vector name ", v->name));
    }
  }
  if (!have_kernel || v->expect.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("vector ", v->name, " lacks kernel: or expect:"));
  }
  if (v->live && v->bytes.size() % 8 != 0) {
    return absl::InvalidArgumentError(absl::StrCat("vector ", v->name, ": live needs whole instructions"));
  }
  return absl::OkStatus();
}

std::vector<RejectionVector> LoadVectors() {
  const std::string path = std::string(BPF_VECTORS_DIR) + "/rejections.txt";
  std::ifstream f(path);
  if (!f) return {RejectionVector{.name = "vector_file_missing", .load_error = "cannot open " + path}};
  std::vector<RejectionVector> out;
  std::vector<std::string> block;
  auto flush = [&]() -> absl::Status {
    if (block.empty()) return absl::OkStatus();
    RejectionVector v;
    absl::Status s = ParseBlock(block, &v);
    block.clear();
    if (!s.ok()) return s;
    for (const RejectionVector& seen : out) {
      if (seen.name == v.name) return absl::InvalidArgumentError("duplicate vector " + v.name);
    }
    out.push_back(std::move(v));
    return absl::OkStatus();
  };
  std::string line;
  while (std::getline(f, line)) {
    absl::string_view t = absl::StripAsciiWhitespace(line);
    if (absl::StartsWith(t, "#")) continue;
    if (t.empty()) {
      if (absl::Status s = flush(); !s.ok()) {
        return {RejectionVector{.name = "vector_file_invalid", .load_error = std::string(s.message())}};
      }
      continue;
    }
    block.push_back(line);
  }
  if (absl::Status s = flush(); !s.ok()) {
    return {RejectionVector{.name = "vector_file_invalid", .load_error = std::string(s.message())}};
  }
  return out;
}

const std::vector<RejectionVector>& Vectors() {
  static const std::vector<RejectionVector> v = LoadVectors();
  return v;
}

// ---- The live kernel ---------------------------------------------------------

// Installs `bytes` with seccomp(SECCOMP_SET_MODE_FILTER) in a forked child and
// returns 0 if the kernel accepted the program, else the errno. The child
// reports through shared memory before it exits, so the installed filter's
// verdict on exit_group (or anything else) cannot change the answer.
absl::StatusOr<int> LiveInstall(const std::string& bytes) {
  struct Report {
    volatile int done;
    volatile int err;
  };
  void* mem = mmap(nullptr, sizeof(Report), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (mem == MAP_FAILED) return absl::InternalError("mmap");
  auto* report = static_cast<Report*>(mem);
  report->done = 0;
  report->err = -1;
  // Aligned copy prepared before fork: the child allocates nothing.
  std::vector<sock_filter> insns(bytes.size() / sizeof(sock_filter));
  if (!insns.empty()) memcpy(insns.data(), bytes.data(), bytes.size());
  sock_fprog prog{.len = static_cast<unsigned short>(insns.size()),
                  .filter = insns.empty() ? nullptr : insns.data()};
  if (insns.size() > 0xffff) return absl::InternalError("program too long for sock_fprog");

  pid_t pid = fork();
  if (pid < 0) return absl::InternalError("fork");
  if (pid == 0) {
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) _exit(90);
    long rc = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog);
    report->err = rc == 0 ? 0 : errno;
    report->done = 1;
    _exit(0);  // may be refused or killed by the new filter; the report is in
  }
  int status = 0;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  for (;;) {
    pid_t w = waitpid(pid, &status, WNOHANG);
    if (w == pid) break;
    if (w < 0 && errno != EINTR) return absl::InternalError("waitpid");
    if (std::chrono::steady_clock::now() > deadline) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  const int done = report->done, err = report->err;
  munmap(mem, sizeof(Report));
  if (!done) return absl::InternalError(absl::StrCat("child did not report (status ", status, ")"));
  return err;
}

// ---- Tests -------------------------------------------------------------------

class RejectionVectorTest : public ::testing::TestWithParam<RejectionVector> {};

TEST_P(RejectionVectorTest, DecodeRejectsWithExpectedReason) {
  const RejectionVector& v = GetParam();
  ASSERT_TRUE(v.load_error.empty()) << v.load_error;
  auto decoded = BpfProgram::Decode(v.bytes);
  ASSERT_FALSE(decoded.ok()) << v.name << " was accepted by Decode";
  EXPECT_EQ(decoded.status().code(), absl::StatusCode::kInvalidArgument);
  const std::string message(decoded.status().message());
  for (const std::string& e : v.expect) EXPECT_THAT(message, HasSubstr(e));

  auto insns = BpfProgram::ParseInsns(v.bytes);
  switch (v.kernel) {
    case KernelVerdict::kWire:
      EXPECT_FALSE(insns.ok()) << "bytes parse as instructions";
      break;
    case KernelVerdict::kReject: {
      ASSERT_TRUE(insns.ok()) << insns.status();
      absl::Status k = BpfProgram::CheckKernelAcceptance(*insns);
      ASSERT_FALSE(k.ok()) << "CheckKernelAcceptance accepts a program the kernel refuses";
      // The kernel's reason is the one Decode reports.
      EXPECT_EQ(k.message(), decoded.status().message());
      break;
    }
    case KernelVerdict::kAccept: {
      ASSERT_TRUE(insns.ok()) << insns.status();
      absl::Status k = BpfProgram::CheckKernelAcceptance(*insns);
      EXPECT_TRUE(k.ok()) << "CheckKernelAcceptance refuses a program the kernel accepts: " << k;
      break;
    }
  }
}

// Only the vectors marked live are installed in the kernel.
class LiveRejectionVectorTest : public RejectionVectorTest {};

std::vector<RejectionVector> LiveVectors() {
  std::vector<RejectionVector> live;
  for (const RejectionVector& v : Vectors()) {
    if (v.live) live.push_back(v);
  }
  return live;
}

TEST_P(LiveRejectionVectorTest, LiveKernelAgreesWithKernelModel) {
  const RejectionVector& v = GetParam();
  ASSERT_TRUE(v.load_error.empty()) << v.load_error;
  auto insns = BpfProgram::ParseInsns(v.bytes);
  const bool model_accepts = insns.ok() && BpfProgram::CheckKernelAcceptance(*insns).ok();
  auto err = LiveInstall(v.bytes);
  ASSERT_TRUE(err.ok()) << err.status();
  const bool kernel_accepts = *err == 0;
  EXPECT_EQ(kernel_accepts, v.kernel == KernelVerdict::kAccept)
      << "the vector file's kernel: is wrong (errno " << *err << ")";
  EXPECT_EQ(kernel_accepts, model_accepts)
      << "CheckKernelAcceptance disagrees with the live kernel (errno " << *err << ")";
  if (!kernel_accepts) {
    EXPECT_EQ(*err, EINVAL) << strerror(*err);
  }
}

INSTANTIATE_TEST_SUITE_P(Vectors, RejectionVectorTest, ::testing::ValuesIn(Vectors()),
                         [](const ::testing::TestParamInfo<RejectionVector>& info) {
                           return info.param.name;
                         });
INSTANTIATE_TEST_SUITE_P(Vectors, LiveRejectionVectorTest, ::testing::ValuesIn(LiveVectors()),
                         [](const ::testing::TestParamInfo<RejectionVector>& info) {
                           return info.param.name;
                         });

TEST(RejectionVectorFileTest, CoversEnoughVectors) {
  int live_reject = 0, live_accept = 0, subset_only = 0;
  for (const RejectionVector& v : Vectors()) {
    ASSERT_TRUE(v.load_error.empty()) << v.load_error;
    if (v.kernel == KernelVerdict::kAccept) ++subset_only;
    if (v.live) ++(v.kernel == KernelVerdict::kAccept ? live_accept : live_reject);
  }
  EXPECT_GE(Vectors().size(), 25u);
  EXPECT_GE(subset_only, 10);
  EXPECT_GE(live_reject, 4);
  EXPECT_GE(live_accept, 4);
}

// The live harness itself: a program that allows everything installs, and a
// refused one reports EINVAL.
TEST(RejectionVectorFileTest, LiveHarnessSeesBothOutcomes) {
  std::string allow;
  AppendInsn(&allow, BpfInsn{.code = BPF_RET | BPF_K, .k = SECCOMP_RET_ALLOW});
  auto ok = LiveInstall(allow);
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_EQ(*ok, 0);
  std::string bad;
  AppendInsn(&bad, BpfInsn{.code = BPF_LD | BPF_W | BPF_ABS, .k = 0});
  auto refused = LiveInstall(bad);
  ASSERT_TRUE(refused.ok()) << refused.status();
  EXPECT_EQ(*refused, EINVAL);
}

}  // namespace
}  // namespace fdattest
