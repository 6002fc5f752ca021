// The TCG EK Credential Profile's default RSA 2048 EK template (template
// L-1): what the attestor creates its EK from, and what a verifier rebuilds
// from the EK certificate's modulus to compute the EK's TPM name (and so the
// AK's qualified name). Header-only: TPM type definitions, no TSS library.
#ifndef FDATTEST_COMMON_TPM_EK_TEMPLATE_H_
#define FDATTEST_COMMON_TPM_EK_TEMPLATE_H_

#include <tss2/tss2_tpm2_types.h>

#include <cstdint>
#include <cstring>

namespace fdattest {

// PolicySecret(TPM_RH_ENDORSEMENT) with sha256: the EK's authPolicy in the TCG
// EK Credential Profile (template L-1).
inline constexpr uint8_t kEkPolicy[32] = {
    0x83, 0x71, 0x97, 0x67, 0x44, 0x84, 0xb3, 0xf8, 0x1a, 0x90, 0xcc, 0x8d, 0x46, 0xa5, 0xd7, 0x24,
    0xfd, 0x52, 0xd7, 0x6e, 0x06, 0x52, 0x0b, 0x64, 0xf2, 0xa1, 0xda, 0x1b, 0x33, 0x14, 0x69, 0xaa};

// With unique.rsa = 256 zero bytes, as the template prescribes; a verifier
// puts the certified modulus there.
inline TPM2B_PUBLIC RsaEkTemplate() {
  TPM2B_PUBLIC t{};
  TPMT_PUBLIC& p = t.publicArea;
  p.type = TPM2_ALG_RSA;
  p.nameAlg = TPM2_ALG_SHA256;
  p.objectAttributes = TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT |
                       TPMA_OBJECT_SENSITIVEDATAORIGIN | TPMA_OBJECT_ADMINWITHPOLICY |
                       TPMA_OBJECT_RESTRICTED | TPMA_OBJECT_DECRYPT;
  p.authPolicy.size = sizeof(kEkPolicy);
  std::memcpy(p.authPolicy.buffer, kEkPolicy, sizeof(kEkPolicy));
  p.parameters.rsaDetail.symmetric.algorithm = TPM2_ALG_AES;
  p.parameters.rsaDetail.symmetric.keyBits.aes = 128;
  p.parameters.rsaDetail.symmetric.mode.aes = TPM2_ALG_CFB;
  p.parameters.rsaDetail.scheme.scheme = TPM2_ALG_NULL;
  p.parameters.rsaDetail.keyBits = 2048;
  p.parameters.rsaDetail.exponent = 0;
  p.unique.rsa.size = 256;  // 256 zero bytes, as the template prescribes
  return t;
}

}  // namespace fdattest

#endif  // FDATTEST_COMMON_TPM_EK_TEMPLATE_H_
