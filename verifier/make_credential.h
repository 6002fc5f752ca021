// TPM2_MakeCredential done by the verifier, off any TPM (TPM 2.0 Part 1,
// "Credential Protection", and Annex B.10, RSA secret sharing), so that
// enrollment can prove that an AK lives in the TPM that holds a certified EK:
// only that TPM can decrypt the seed with the EK, and it releases the
// credential only when the object it names (the AK) is loaded in it
// (TPM2_ActivateCredential). OpenSSL and tss2-mu only (no ESYS, no TPM).
// Stateless; thread-safe.
#ifndef FDATTEST_VERIFIER_MAKE_CREDENTIAL_H_
#define FDATTEST_VERIFIER_MAKE_CREDENTIAL_H_

#include <tss2/tss2_tpm2_types.h>

#include <cstddef>
#include <string>

#include "absl/strings/string_view.h"
#include "common/status.h"

namespace fdattest {

// What TPM2_ActivateCredential takes back, in the TPM's wire form.
struct MadeCredential {
  std::string credential_blob;   // marshalled TPM2B_ID_OBJECT
  std::string encrypted_secret;  // marshalled TPM2B_ENCRYPTED_SECRET
};

// Protects `credential` (1 byte up to the digest size of the EK's nameAlg;
// the service uses 32) for the object named `object_name` (a TPM name: a
// 2-byte hash algorithm and its digest, e.g. 0x000b || SHA-256) in the TPM
// holding the EK whose marshalled TPM2B_PUBLIC is `ek_public`:
//   seed        = random, the size of the EK nameAlg's digest
//   secret      = RSA-OAEP(EK, seed), hash nameAlg, label "IDENTITY\0"
//   symKey      = KDFa(nameAlg, seed, "STORAGE", name, "", EK symmetric key bits)
//   encIdentity = CFB(symKey, IV 0, size || credential), the EK's symmetric cipher
//   hmacKey     = KDFa(nameAlg, seed, "INTEGRITY", "", "", digest bits)
//   blob        = TPM2B_DIGEST(HMAC(nameAlg, hmacKey, encIdentity || name)) || encIdentity
// The EK's algorithms are read from its public area: an RSA (2048, 3072 or
// 4096 bits) restricted decryption key with an AES-CFB symmetric definition
// and nameAlg SHA-256, SHA-384 or SHA-512. Anything else is InvalidArgument.
absl::StatusOr<MadeCredential> MakeCredential(absl::string_view ek_public,
                                              absl::string_view object_name,
                                              absl::string_view credential);

// KDFa of TPM 2.0 Part 1 (SP 800-108 counter mode with HMAC): `bits` bits
// (a multiple of 8) derived from `key` for `label` (a terminating zero
// octet is added) and the two contexts. Exposed for tests.
// InvalidArgument for a hash other than SHA-256, SHA-384 or SHA-512.
absl::StatusOr<std::string> TpmKdfa(TPMI_ALG_HASH hash, absl::string_view key,
                                    absl::string_view label, absl::string_view context_u,
                                    absl::string_view context_v, size_t bits);

}  // namespace fdattest

#endif  // FDATTEST_VERIFIER_MAKE_CREDENTIAL_H_
