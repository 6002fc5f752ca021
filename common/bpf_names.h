// Names that make a seccomp program readable (common/bpf_explain.h and the
// property counterexamples): actions with errno names, argument names of
// common syscalls, named constants and flag bits, and an input written as a
// call. Stateless; thread-safe.
#ifndef FDATTEST_COMMON_BPF_NAMES_H_
#define FDATTEST_COMMON_BPF_NAMES_H_

#include <cstdint>
#include <string>

#include "common/bpf.h"

namespace fdattest {

// "ALLOW", "EBADF" (ERRNO with data 9), "returns 0 without effect" (ERRNO
// 0), "TRAP (SIGSYS)", "KILL_PROCESS", ...
std::string ActionText(uint32_t ret);
// The errno's symbolic name ("EBADF"), or its number.
std::string ErrnoName(uint32_t err);

// The argument's name for a syscall whose signature is known ("fd",
// "flags", "cmd"), else "a<i>".
std::string ArgName(uint32_t nr, int arg);
// Whether the argument is a file descriptor.
bool IsFdArg(uint32_t nr, int arg);
// A value of the argument: a named constant where the argument has named
// values (fcntl F_GETFD, ioctl TCGETS, prctl PR_GET_NAME, execveat
// AT_EMPTY_PATH), else decimal.
std::string ArgValueText(uint32_t nr, int arg, uint64_t value);
// A bit mask of the argument: its named flag bits ("CLONE_NEWNS|CLONE_PIDFD")
// where all bits have names, else hexadecimal.
std::string ArgMaskText(uint32_t nr, int arg, uint64_t mask);

// The input as a call, e.g. "write(2, …)": arguments up to the highest one
// that is non-zero or at `min_args - 1`, in decimal.
std::string CallText(const SeccompInput& in, int min_arg);

}  // namespace fdattest

#endif  // FDATTEST_COMMON_BPF_NAMES_H_
