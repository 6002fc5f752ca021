#include "verifier/audit/checkpoint.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/base64.h"
#include "verifier/audit/signed_note.h"

namespace fdattest {
namespace {

constexpr size_t kRootBytes = 32;

absl::StatusOr<uint64_t> ParseSize(absl::string_view s) {
  if (s.empty()) return absl::InvalidArgumentError("the checkpoint's size line is empty");
  if (s.size() > 1 && s[0] == '0') {
    return absl::InvalidArgumentError("the checkpoint's size has a leading zero");
  }
  uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') {
      return absl::InvalidArgumentError("the checkpoint's size is not a decimal number");
    }
    const auto digit = static_cast<uint64_t>(c - '0');
    if (v > (UINT64_MAX - digit) / 10) {
      return absl::InvalidArgumentError("the checkpoint's size does not fit in 64 bits");
    }
    v = v * 10 + digit;
  }
  return v;
}

}  // namespace

std::string Checkpoint::Text() const {
  std::string text = absl::StrCat(origin, "\n", size, "\n", Base64Encode(root), "\n");
  for (const std::string& line : extensions) absl::StrAppend(&text, line, "\n");
  return text;
}

absl::StatusOr<Checkpoint> Checkpoint::Parse(absl::string_view text) {
  RETURN_IF_ERROR(CheckNoteText(text));
  text.remove_suffix(1);  // the final '\n'; every line now ends at a '\n' or the end
  std::vector<absl::string_view> lines = absl::StrSplit(text, '\n');
  if (lines.size() < 3) {
    return absl::InvalidArgumentError("a checkpoint has an origin, a size and a root line");
  }
  Checkpoint out;
  if (lines[0].empty()) return absl::InvalidArgumentError("the checkpoint's origin is empty");
  out.origin = std::string(lines[0]);
  ASSIGN_OR_RETURN(out.size, ParseSize(lines[1]));
  if (lines[2].empty()) return absl::InvalidArgumentError("the checkpoint's root line is empty");
  auto root = Base64Decode(lines[2]);
  if (!root.ok()) return absl::InvalidArgumentError("the checkpoint's root is not base64");
  if (root->size() != kRootBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("the checkpoint's root is ", root->size(), " bytes, not 32"));
  }
  out.root = *std::move(root);
  for (size_t i = 3; i < lines.size(); ++i) {
    if (lines[i].empty()) {
      return absl::InvalidArgumentError("a checkpoint's extension line must not be empty");
    }
    out.extensions.emplace_back(lines[i]);
  }
  return out;
}

}  // namespace fdattest
