#include "common/register.h"

#include <optional>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/strip.h"

namespace fdattest {
namespace {

constexpr absl::string_view kSha256 = "sha256";
constexpr absl::string_view kNvPrefix = "nv:0x";
constexpr absl::string_view kPcrPrefix = "pcr:";
constexpr uint32_t kPcrCount = 24;

bool IsLowerHexDigit(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }
bool IsDecimalDigit(char c) { return c >= '0' && c <= '9'; }

absl::Status BadText(absl::string_view text) {
  return absl::InvalidArgumentError(absl::StrCat(
      "register \"", absl::CHexEscape(text),
      "\": expected nv:0x and 8 lowercase hex digits (e.g. nv:0x01bfda00) or pcr:N (0-23)"));
}

}  // namespace

absl::StatusOr<Register> Register::NvIndex(uint32_t handle) {
  // TPM_HT_NV_INDEX: the handle's top byte is 0x01.
  if ((handle >> 24) != 0x01) {
    return absl::InvalidArgumentError(
        absl::StrFormat("0x%08x is not an NV index handle (0x01000000-0x01ffffff)", handle));
  }
  return Register{Kind::kNvIndex, handle};
}

absl::StatusOr<Register> Register::Pcr(int64_t number) {
  if (number < 0 || number >= kPcrCount) {
    return absl::InvalidArgumentError(absl::StrCat("PCR ", number, " does not exist (0-23)"));
  }
  return Register{Kind::kPcr, static_cast<uint32_t>(number)};
}

absl::StatusOr<Register> Register::Parse(absl::string_view text) {
  absl::string_view rest = text;
  if (absl::ConsumePrefix(&rest, kNvPrefix)) {
    if (rest.size() != 8) return BadText(text);
    uint32_t handle = 0;
    for (char c : rest) {
      if (!IsLowerHexDigit(c)) return BadText(text);
      handle = (handle << 4) | static_cast<uint32_t>(c <= '9' ? c - '0' : c - 'a' + 10);
    }
    return NvIndex(handle);
  }
  if (absl::ConsumePrefix(&rest, kPcrPrefix)) {
    // One or two digits, no leading zero: one spelling per PCR.
    if (rest.empty() || rest.size() > 2 || (rest.size() == 2 && rest[0] == '0')) {
      return BadText(text);
    }
    int64_t number = 0;
    for (char c : rest) {
      if (!IsDecimalDigit(c)) return BadText(text);
      number = number * 10 + (c - '0');
    }
    return Pcr(number);
  }
  return BadText(text);
}

absl::StatusOr<Register> Register::FromJson(const JsonValue& json) {
  JsonValueFields f(json, "register");
  std::optional<std::string> kind = f.String("kind", true);
  if (kind == "nv") {
    std::optional<int64_t> n = f.Int("nv_index", true, 0x01000000, 0x01ffffff);
    RETURN_IF_ERROR(f.Finish());
    return NvIndex(static_cast<uint32_t>(*n));
  }
  if (kind == "pcr") {
    std::optional<std::string> bank = f.String("bank", true);
    std::optional<int64_t> n = f.Int("pcr", true, 0, kPcrCount - 1);
    RETURN_IF_ERROR(f.Finish());
    if (bank != kSha256) return absl::InvalidArgumentError("register: bank must be \"sha256\"");
    return Pcr(*n);
  }
  RETURN_IF_ERROR(f.Finish());
  return absl::InvalidArgumentError("register: kind must be \"nv\" or \"pcr\"");
}

std::string Register::ToString() const {
  if (kind == Kind::kNvIndex) return absl::StrFormat("%s%08x", kNvPrefix, index);
  return absl::StrCat(kPcrPrefix, index);
}

Json Register::ToJson() const {
  if (kind == Kind::kNvIndex) return Json{{"kind", "nv"}, {"nv_index", index}};
  return Json{{"kind", "pcr"}, {"pcr", index}, {"bank", kSha256}};
}

absl::Status CheckRegisterNotResettable(const Register& reg) {
  if (reg.kind == Register::Kind::kPcr && (reg.index == 16 || reg.index == 23)) {
    return absl::PermissionDeniedError(absl::StrCat(
        "register ", reg.ToString(),
        " can be reset by any TPM client (TPM2_PCR_Reset at locality 0), so it proves nothing; "
        "use another PCR or an NV index"));
  }
  return absl::OkStatus();
}

}  // namespace fdattest
