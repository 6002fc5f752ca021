// The programs the differential test runs against the live kernel: the
// launcher's own filters for several profiles, and foreign filters — libseccomp
// output at both optimisation levels, a Docker-like allowlist, hand-assembled
// programs and seeded random programs of the supported subset.
#ifndef FDATTEST_TESTS_BPF_DIFF_CORPUS_H_
#define FDATTEST_TESTS_BPF_DIFF_CORPUS_H_

#include <linux/filter.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "common/status.h"

namespace fdattest::bpf_diff {

struct CorpusProgram {
  std::string name;
  std::string kind;      // "launcher", "libseccomp", "hand", "random"
  std::string bytes;     // sock_filter[] wire bytes
  std::vector<int> fds;  // descriptors the program is about (declared, exec fd)
};

// Every program name, in a fixed order.
const std::vector<std::string>& CorpusNames();
absl::StatusOr<CorpusProgram> BuildCorpusProgram(const std::string& name);

// A tiny assembler with symbolic labels over the kernel's BPF_STMT/BPF_JUMP
// macros. An empty label means "the next instruction".
class Asm {
 public:
  Asm& Ld(int word);
  Asm& And(uint32_t k);
  Asm& Jeq(uint32_t k, const std::string& jt, const std::string& jf) {
    return J(BPF_JEQ, k, jt, jf);
  }
  Asm& Jgt(uint32_t k, const std::string& jt, const std::string& jf) {
    return J(BPF_JGT, k, jt, jf);
  }
  Asm& Jge(uint32_t k, const std::string& jt, const std::string& jf) {
    return J(BPF_JGE, k, jt, jf);
  }
  Asm& Jset(uint32_t k, const std::string& jt, const std::string& jf) {
    return J(BPF_JSET, k, jt, jf);
  }
  Asm& J(uint16_t op, uint32_t k, const std::string& jt, const std::string& jf);
  Asm& Ja(const std::string& target);
  Asm& Ret(uint32_t k);
  Asm& Label(const std::string& name);
  // Resolves the labels; fails on a backward or too long conditional jump.
  absl::StatusOr<std::string> Bytes() const;

 private:
  struct Pending {
    sock_filter insn;
    std::string jt, jf;  // conditional targets, or jt alone for ja
  };
  std::vector<Pending> insns_;
  std::map<std::string, size_t> labels_;
};

}  // namespace fdattest::bpf_diff

#endif  // FDATTEST_TESTS_BPF_DIFF_CORPUS_H_
