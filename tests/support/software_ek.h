// A software stand-in for a TPM's endorsement key, for enrollment tests that
// need no TPM: an RSA 2048 key in the TCG EK template, a test CA that
// certifies it, an AK public area, and TPM2_ActivateCredential's steps
// (TPM 2.0 Part 1, "Credential Protection") done with the private key.
// Test-only; stateless; thread-safe.
#ifndef FDATTEST_TESTS_SUPPORT_SOFTWARE_EK_H_
#define FDATTEST_TESTS_SUPPORT_SOFTWARE_EK_H_

#include <tss2/tss2_tpm2_types.h>

#include <string>

#include "absl/strings/string_view.h"
#include "common/openssl_ptr.h"
#include "common/status.h"

namespace fdattest::testing {

struct TestCa {
  EvpPkeyPtr key;
  X509Ptr cert;
  std::string pem;
};
// A self-signed P-256 CA named `common_name`.
TestCa MakeTestCa(absl::string_view common_name);

struct SoftwareEk {
  EvpPkeyPtr key;              // RSA 2048
  std::string ek_public;       // marshalled TPM2B_PUBLIC (TCG template L-1)
  std::string certificate;     // DER, signed by the CA given to MakeSoftwareEk
};
// `ca` may be null: then no certificate. `name_alg` and `aes_bits` change
// the template, for tests of what MakeCredential refuses.
SoftwareEk MakeSoftwareEk(const TestCa* ca, TPMI_ALG_HASH name_alg = TPM2_ALG_SHA256,
                          uint16_t aes_bits = 128);

// A marshalled TPM2B_PUBLIC of a fresh P-256 AK with `attributes`
// (default: the fdattest AK's).
std::string MakeAkPublic(TPMA_OBJECT attributes = TPMA_OBJECT_RESTRICTED |
                                                  TPMA_OBJECT_SIGN_ENCRYPT |
                                                  TPMA_OBJECT_FIXEDTPM |
                                                  TPMA_OBJECT_FIXEDPARENT |
                                                  TPMA_OBJECT_SENSITIVEDATAORIGIN |
                                                  TPMA_OBJECT_USERWITHAUTH);

// The credential in a MakeCredential output for a SHA-256, AES-128 EK, or
// InvalidArgument naming the step that fails: "seed does not decrypt"
// (another EK), "integrity" (another name, or a changed blob).
absl::StatusOr<std::string> SoftwareActivate(const SoftwareEk& ek, absl::string_view name,
                                             absl::string_view credential_blob,
                                             absl::string_view encrypted_secret);

}  // namespace fdattest::testing

#endif  // FDATTEST_TESTS_SUPPORT_SOFTWARE_EK_H_
