#include "common/tpm_names.h"

#include "absl/strings/str_cat.h"
#include "common/sha256.h"
#include "common/tpm_wire.h"

namespace fdattest {

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
  ASSIGN_OR_RETURN(std::string marshalled, TpmMarshal(area));
  return Sha256TpmName(marshalled);
}

absl::StatusOr<std::string> TpmNvIndexName(const TPMS_NV_PUBLIC& nv_public) {
  if (nv_public.nameAlg != TPM2_ALG_SHA256) {
    return absl::InvalidArgumentError("only sha256 NV index names are supported");
  }
  ASSIGN_OR_RETURN(std::string marshalled, TpmMarshal(nv_public));
  return Sha256TpmName(marshalled);
}

std::string TpmHierarchyQualifiedName(TPM2_HANDLE hierarchy) {
  return std::string{static_cast<char>(hierarchy >> 24), static_cast<char>(hierarchy >> 16),
                     static_cast<char>(hierarchy >> 8), static_cast<char>(hierarchy)};
}

std::string TpmQualifiedName(absl::string_view parent_qualified_name, absl::string_view name) {
  return Sha256TpmName(absl::StrCat(parent_qualified_name, name));
}

}  // namespace fdattest
