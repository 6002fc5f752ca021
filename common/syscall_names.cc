#include "common/syscall_names.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"

namespace fdattest {
namespace {

struct Entry {
  uint32_t nr;
  const char* name;
};

// Generated, ascending by number.
constexpr Entry kTable[] = {
#include "common/syscall_table_x86_64.inc"
};

}  // namespace

std::optional<absl::string_view> KnownSyscallName(uint32_t nr) {
  const Entry* it = std::lower_bound(std::begin(kTable), std::end(kTable), nr,
                                     [](const Entry& e, uint32_t n) { return e.nr < n; });
  if (it == std::end(kTable) || it->nr != nr) return std::nullopt;
  return absl::string_view(it->name);
}

std::string SyscallName(uint32_t nr) {
  std::optional<absl::string_view> name = KnownSyscallName(nr);
  return name ? std::string(*name) : absl::StrCat("syscall_", nr);
}

const std::vector<uint32_t>& NamedSyscalls() {
  static const std::vector<uint32_t> v = [] {
    std::vector<uint32_t> out;
    for (const Entry& e : kTable) out.push_back(e.nr);
    return out;
  }();
  return v;
}

std::optional<uint32_t> SyscallNumber(absl::string_view name) {
  for (const Entry& e : kTable) {
    if (name == e.name) return e.nr;
  }
  return std::nullopt;
}

}  // namespace fdattest
