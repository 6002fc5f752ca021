#include "common/tpm_names.h"

#include <tss2/tss2_mu.h>

#include "absl/strings/str_cat.h"
#include "common/sha256.h"

namespace fdattest {
namespace {

absl::string_view View(const uint8_t* p, size_t n) {
  return absl::string_view(reinterpret_cast<const char*>(p), n);
}

}  // namespace

std::string Sha256TpmName(absl::string_view data) {
  const Sha256Digest d = Sha256(data);
  std::string name("\x00\x0b", 2);
  name.append(reinterpret_cast<const char*>(d.data()), d.size());
  return name;
}

absl::StatusOr<std::string> TpmObjectName(const TPMT_PUBLIC& area) {
  if (area.nameAlg != TPM2_ALG_SHA256) {
    return absl::InvalidArgumentError(
        absl::StrCat("nameAlg 0x", absl::Hex(area.nameAlg), " (only SHA-256 names are accepted)"));
  }
  uint8_t buf[sizeof(TPMT_PUBLIC)];
  size_t off = 0;
  if (Tss2_MU_TPMT_PUBLIC_Marshal(&area, buf, sizeof(buf), &off) != TSS2_RC_SUCCESS) {
    return absl::InvalidArgumentError("public area does not marshal");
  }
  return Sha256TpmName(View(buf, off));
}

absl::StatusOr<std::string> TpmNvIndexName(const TPMS_NV_PUBLIC& nv_public) {
  if (nv_public.nameAlg != TPM2_ALG_SHA256) {
    return absl::InvalidArgumentError("only sha256 NV index names are supported");
  }
  uint8_t buf[sizeof(TPMS_NV_PUBLIC)];
  size_t off = 0;
  if (Tss2_MU_TPMS_NV_PUBLIC_Marshal(&nv_public, buf, sizeof(buf), &off) != TSS2_RC_SUCCESS) {
    return absl::InvalidArgumentError("NV public area does not marshal");
  }
  return Sha256TpmName(View(buf, off));
}

std::string TpmHierarchyQualifiedName(TPM2_HANDLE hierarchy) {
  return std::string{static_cast<char>(hierarchy >> 24), static_cast<char>(hierarchy >> 16),
                     static_cast<char>(hierarchy >> 8), static_cast<char>(hierarchy)};
}

std::string TpmQualifiedName(absl::string_view parent_qualified_name, absl::string_view name) {
  return Sha256TpmName(absl::StrCat(parent_qualified_name, name));
}

}  // namespace fdattest
