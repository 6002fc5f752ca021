// Inputs for the differential test: every syscall number 0..500 on both
// architectures, x32 and out-of-range numbers, and arguments aimed at the
// program's own constants (k, k-1, k+1, with and without hi-word junk), at the
// descriptors it is about and their neighbours, plus boundary and random
// values. i386 inputs carry 32-bit arguments only, as int $0x80 passes them.
#ifndef FDATTEST_TESTS_BPF_DIFF_INPUTS_H_
#define FDATTEST_TESTS_BPF_DIFF_INPUTS_H_

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "common/bpf.h"

namespace fdattest::bpf_diff {

// The constants a program compares or masks each word with, found by tracking
// the most recently loaded word in program order.
struct ProgramConstants {
  std::array<std::vector<uint32_t>, kSeccompWords> by_word;
  std::vector<uint32_t> args;  // union over the argument words
  // Where an argument word is compared: the architecture and syscall number
  // last tested for equality before it (libseccomp's layout at either
  // optimisation level, and most hand-written filters).
  struct Site {
    uint32_t arch;
    uint32_t nr;
    int word;
    uint32_t k;
    auto operator<=>(const Site&) const = default;
  };
  std::vector<Site> sites;
};
ProgramConstants ExtractConstants(const BpfProgram& program);

// Deterministic for a given seed; at least `min_count` inputs.
std::vector<SeccompInput> GenerateInputs(const BpfProgram& program, const std::vector<int>& fds,
                                         uint64_t seed, size_t min_count);

// True when the kernel oracle can issue this input (x86_64, or i386 with
// 32-bit arguments).
bool KernelCanIssue(const SeccompInput& in);

uint64_t SeedOf(const std::string& name);

}  // namespace fdattest::bpf_diff

#endif  // FDATTEST_TESTS_BPF_DIFF_INPUTS_H_
