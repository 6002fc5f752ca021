// The public area of the NV extend index fdattestd measures into (see
// docs/attestor.md): one definition shared by the attestor, which defines the
// index, and the verifier, which recomputes its TPM name to make sure an NV
// certification is of this kind of index and no other (an ordinary NV index
// could be written with any value). Header-only: TPM type definitions only.
#ifndef FDATTEST_COMMON_TPM_NV_REGISTER_H_
#define FDATTEST_COMMON_TPM_NV_REGISTER_H_

#include <tss2/tss2_tpm2_types.h>

#include <cstdint>

namespace fdattest {

// TPM_NT_EXTEND, written with its own auth value, readable with it or the
// owner's, no dictionary-attack lockout; cleared by a TPM Reset/Restart when
// `clear_on_tpm_reset` (the event log's epochs rely on it).
inline TPMA_NV MeasurementNvAttributes(bool clear_on_tpm_reset) {
  TPMA_NV a = (TPM2_NT_EXTEND << TPMA_NV_TPM2_NT_SHIFT) | TPMA_NV_AUTHWRITE | TPMA_NV_AUTHREAD |
              TPMA_NV_OWNERREAD | TPMA_NV_NO_DA;
  if (clear_on_tpm_reset) a |= TPMA_NV_CLEAR_STCLEAR;
  return a;
}

// The index's public area as TPM2_NV_Certify names it: written (an
// NV_Certify of an unwritten index fails), sha256, 32 bytes, no policy.
inline TPMS_NV_PUBLIC MeasurementNvPublic(uint32_t index) {
  TPMS_NV_PUBLIC p{};
  p.nvIndex = index;
  p.nameAlg = TPM2_ALG_SHA256;
  p.attributes = MeasurementNvAttributes(/*clear_on_tpm_reset=*/true) | TPMA_NV_WRITTEN;
  p.dataSize = 32;
  return p;
}

}  // namespace fdattest

#endif  // FDATTEST_COMMON_TPM_NV_REGISTER_H_
