// The measurement register: the TPM location fdattestd extends every
// measurement into, an NV extend index or a PCR of the sha256 bank. One type
// with one text form ("nv:0x01bfda00", "pcr:15": fdattestd's --register, log
// and error messages) and one JSON form (the attestor's info reply and the
// evidence bundle), each with exactly one parser and one formatter, shared by
// the attestor, the event log and the verifier. Grammar and JSON:
// docs/formats/event-log.md, "The register". A Register is a plain value;
// thread-safe.
#ifndef FDATTEST_COMMON_REGISTER_H_
#define FDATTEST_COMMON_REGISTER_H_

#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"
#include "common/json.h"
#include "common/status.h"

namespace fdattest {

// fdattestd's default NV index. The TCG handle registry gives owner-defined
// indexes 0x01800000-0x01bfffff (below are TPM and platform manufacturer
// ranges, above the EK/platform certificates and platform-specific ranges);
// tools that allocate owner indexes (e.g. tpm2-tss FAPI's /nv/Owner) count up
// from 0x01800000, so the register sits near the top.
inline constexpr uint32_t kDefaultNvRegisterIndex = 0x01bfda00;

struct Register {
  enum class Kind { kNvIndex, kPcr };

  // A value built field by field is unchecked: make registers through the
  // factories and parsers below. The default is fdattestd's default register.
  Kind kind = Kind::kNvIndex;
  uint32_t index = kDefaultNvRegisterIndex;  // NV handle (0x01xxxxxx) or PCR number (0..23)

  // InvalidArgument unless `handle` is of the NV index type (top byte 0x01).
  static absl::StatusOr<Register> NvIndex(uint32_t handle);
  // InvalidArgument unless 0 <= number <= 23.
  static absl::StatusOr<Register> Pcr(int64_t number);
  // The text form, exactly: "nv:0x" and 8 lowercase hex digits, or "pcr:" and
  // the PCR number in decimal without leading zeros. Every other spelling
  // (upper case, fewer digits, "+", spaces, a bare "nv") is InvalidArgument,
  // so Parse(r.ToString()) == r and Parse(t)->ToString() == t.
  static absl::StatusOr<Register> Parse(absl::string_view text);
  // {"kind":"nv","nv_index":N} or {"bank":"sha256","kind":"pcr","pcr":N}.
  // Strict: unknown or missing keys, another bank or kind are InvalidArgument.
  static absl::StatusOr<Register> FromJson(const JsonValue& json);

  std::string ToString() const;  // the Parse() form
  Json ToJson() const;           // the FromJson() form

  friend bool operator==(const Register&, const Register&) = default;
};

// PCRs 16 (debug) and 23 (application) can be reset with TPM2_PCR_Reset from
// locality 0, where every TPM client runs: any of them could zero the
// register and extend a history of its choice, so a register there proves
// nothing. PermissionDenied for those two, OK for every other register. The
// attestor refuses them unless a test allows it; the verifier always.
absl::Status CheckRegisterNotResettable(const Register& reg);

}  // namespace fdattest

#endif  // FDATTEST_COMMON_REGISTER_H_
