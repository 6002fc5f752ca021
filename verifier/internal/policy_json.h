// Checks shared by the policy parser (verifier/policy_model.cc) and the
// endpoint-registry parser (verifier/endpoint_registry.cc), over JSON values
// JsonFields has already type-checked: bounded lists of unique strings,
// digests, names, tokens, port sets and access names, each failing with
// InvalidArgument naming the path ("policy.secrets[2]: ..."). Pure functions;
// thread-safe.
#ifndef FDATTEST_VERIFIER_INTERNAL_POLICY_JSON_H_
#define FDATTEST_VERIFIER_INTERNAL_POLICY_JSON_H_

#include <cstddef>
#include <cstdint>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "common/json.h"
#include "common/profile.h"
#include "common/status.h"

namespace fdattest::policy_internal {

bool IsSha256Hex(absl::string_view s);
bool IsPrintableText(absl::string_view s);

// InvalidArgument "<where>: <message>".
absl::Status Invalid(absl::string_view where, absl::string_view message);

// A list of unique strings, each checked by `valid` (which returns what is
// wrong, or "" when fine). A null `array` (an absent optional key) is empty.
template <typename Valid>
absl::StatusOr<std::vector<std::string>> StringList(const Json* array, const std::string& where,
                                                    size_t max_items, bool allow_empty,
                                                    Valid valid) {
  std::vector<std::string> out;
  if (array == nullptr) return out;
  if (array->size() > max_items) {
    return Invalid(where,
                   absl::StrCat("at most ", max_items, " entries (got ", array->size(), ")"));
  }
  if (array->empty() && !allow_empty) return Invalid(where, "must not be empty");
  std::set<std::string> seen;
  for (size_t i = 0; i < array->size(); ++i) {
    const Json& item = (*array)[i];
    const std::string item_where = absl::StrCat(where, "[", i, "]");
    if (!item.is_string()) return Invalid(item_where, "must be a string");
    std::string value = item.get<std::string>();
    std::string problem = valid(value);
    if (!problem.empty()) return Invalid(item_where, problem);
    if (!seen.insert(value).second) {
      return Invalid(item_where, absl::StrCat("\"", value, "\" is listed twice"));
    }
    out.push_back(std::move(value));
  }
  return out;
}

// A list of unique sha256 digests (64 lowercase hex characters).
absl::StatusOr<std::set<std::string>> DigestSet(const Json* array, const std::string& where,
                                                size_t max_items, bool allow_empty);

// What is wrong with `s` as a free-text name of 1..max_len printable
// characters, or "" when fine.
std::string CheckName(const std::string& s, size_t max_len);
// Likewise for a token of letters, digits, '.', '_' and '-'.
std::string CheckToken(const std::string& s, size_t max_len);

// A non-empty list of at most 32 unique ports 1..65535.
absl::StatusOr<std::set<uint16_t>> PortSet(const Json* array, const std::string& where);

// A declared access as the policy and the manifest write it: r, w, rw, a.
absl::StatusOr<Access> AccessFromName(absl::string_view s);

}  // namespace fdattest::policy_internal

#endif  // FDATTEST_VERIFIER_INTERNAL_POLICY_JSON_H_
