// TPM 2.0 names (Part 1, "Names" and "Qualified Name"), sha256 only: an
// object's or NV index's name is nameAlg || H(marshalled public area), a
// qualified name chains names from the hierarchy down. Shared by the attestor,
// which creates the objects, and the verifier, which must recompute what the
// TPM signed. Marshals through common/tpm_wire.h (library fdattest_tpm, on
// tss2-mu: fdlaunch links statically and needs none of this). Stateless;
// thread-safe.
#ifndef FDATTEST_COMMON_TPM_NAMES_H_
#define FDATTEST_COMMON_TPM_NAMES_H_

#include <tss2/tss2_tpm2_types.h>

#include <string>

#include "absl/strings/string_view.h"
#include "common/status.h"

namespace fdattest {

// 0x000b || SHA-256(data): a name (or qualified name) of the sha256 kind.
std::string Sha256TpmName(absl::string_view data);
// InvalidArgument unless nameAlg is SHA-256 and the area marshals.
absl::StatusOr<std::string> TpmObjectName(const TPMT_PUBLIC& area);
absl::StatusOr<std::string> TpmNvIndexName(const TPMS_NV_PUBLIC& nv_public);
// A hierarchy's qualified name is its handle, big-endian.
std::string TpmHierarchyQualifiedName(TPM2_HANDLE hierarchy);
// QN(child) = 0x000b || SHA-256(QN(parent) || Name(child)).
std::string TpmQualifiedName(absl::string_view parent_qualified_name, absl::string_view name);

}  // namespace fdattest

#endif  // FDATTEST_COMMON_TPM_NAMES_H_
