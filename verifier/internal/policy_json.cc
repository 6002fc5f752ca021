#include "verifier/internal/policy_json.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "common/sha256.h"

namespace fdattest::policy_internal {
namespace {

constexpr size_t kMaxPorts = 32;

std::string CheckSha256(const std::string& s) {
  return IsSha256Hex(s) ? "" : "must be a sha256 digest: 64 lowercase hex characters";
}

}  // namespace

bool IsSha256Hex(absl::string_view s) { return s.size() == 64 && IsLowerHex(s); }

bool IsPrintableText(absl::string_view s) {
  return std::none_of(s.begin(), s.end(),
                      [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; });
}

absl::Status Invalid(absl::string_view where, absl::string_view message) {
  return absl::InvalidArgumentError(absl::StrCat(where, ": ", message));
}

absl::StatusOr<std::set<std::string>> DigestSet(const Json* array, const std::string& where,
                                                size_t max_items, bool allow_empty) {
  ASSIGN_OR_RETURN(std::vector<std::string> list,
                   StringList(array, where, max_items, allow_empty, CheckSha256));
  return std::set<std::string>(list.begin(), list.end());
}

std::string CheckName(const std::string& s, size_t max_len) {
  if (s.empty() || s.size() > max_len) return absl::StrCat("must be 1..", max_len, " characters");
  if (!IsPrintableText(s)) return "must not contain control characters";
  return "";
}

std::string CheckToken(const std::string& s, size_t max_len) {
  if (s.empty() || s.size() > max_len) return absl::StrCat("must be 1..", max_len, " characters");
  for (char c : s) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '_' && c != '-') {
      return "may contain only letters, digits, '.', '_' and '-'";
    }
  }
  return "";
}

absl::StatusOr<std::set<uint16_t>> PortSet(const Json* array, const std::string& where) {
  if (array->empty()) return Invalid(where, "must not be empty");
  if (array->size() > kMaxPorts)
    return Invalid(where, absl::StrCat("at most ", kMaxPorts, " ports"));
  std::set<uint16_t> out;
  for (size_t i = 0; i < array->size(); ++i) {
    const Json& p = (*array)[i];
    const std::string item_where = absl::StrCat(where, "[", i, "]");
    if (!p.is_number_unsigned() || p.get<uint64_t>() == 0 || p.get<uint64_t>() > 65535) {
      return Invalid(item_where, "must be a port number 1..65535");
    }
    if (!out.insert(static_cast<uint16_t>(p.get<uint64_t>())).second) {
      return Invalid(item_where, "port listed twice");
    }
  }
  return out;
}

absl::StatusOr<Access> AccessFromName(absl::string_view s) {
  if (s == "r") return Access::kRead;
  if (s == "w") return Access::kWrite;
  if (s == "rw") return Access::kReadWrite;
  if (s == "a") return Access::kAppend;
  return absl::InvalidArgumentError("must be one of r, w, rw, a");
}

}  // namespace fdattest::policy_internal
