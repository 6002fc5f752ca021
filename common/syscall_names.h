// x86_64 syscall names by number, from the kernel headers the project is
// built against plus common/syscalls_newer.txt (tools/gen_syscall_table.sh
// generates the table at build time). Immutable; thread-safe.
#ifndef FDATTEST_COMMON_SYSCALL_NAMES_H_
#define FDATTEST_COMMON_SYSCALL_NAMES_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace fdattest {

// The syscall's name ("read"), or "syscall_N" for a number with none.
std::string SyscallName(uint32_t nr);
// The name, or nullopt for a number the table does not have.
std::optional<absl::string_view> KnownSyscallName(uint32_t nr);
// Every named number, ascending.
const std::vector<uint32_t>& NamedSyscalls();
// The number of a name, or nullopt.
std::optional<uint32_t> SyscallNumber(absl::string_view name);

}  // namespace fdattest

#endif  // FDATTEST_COMMON_SYSCALL_NAMES_H_
