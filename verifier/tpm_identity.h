// Who signed: the attester's EK certificate checked against the TPM vendor
// CAs the verifier trusts, and the EK's TPM public area rebuilt from that
// certificate (TCG default RSA 2048 template) so that the AK's qualified name
// can be recomputed — binding the AK to a certified TPM (the "identity"
// step of verifier/verify.h). OpenSSL and tss2-mu only. Stateless; thread-safe.
#ifndef FDATTEST_VERIFIER_TPM_IDENTITY_H_
#define FDATTEST_VERIFIER_TPM_IDENTITY_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/strings/string_view.h"
#include "common/status.h"

namespace fdattest {

// What a checked EK certificate establishes.
struct CertifiedEk {
  // The marshalled TPM2B_PUBLIC of the EK: the TCG EK Credential Profile's
  // RSA 2048 template (L-1) with the certificate's modulus.
  std::string ek_public;
  // When the verified chain holds, as unix seconds: the latest notBefore and
  // the earliest notAfter over the EK certificate and its issuers, so that a
  // caller who remembers the result knows when it stops being true.
  int64_t not_before = 0;
  int64_t not_after = 0;
};

// Decodes the DER certificate once and checks that it chains, at time `at`
// (unix seconds; absent: now), to one of the PEM certificates in `ca_pem` (at
// least one; each a trust anchor): Unauthenticated if it does not,
// InvalidArgument for undecodable input or a key that is not RSA 2048 with
// exponent 65537.
absl::StatusOr<CertifiedEk> CheckEkCertificate(absl::string_view ek_der, absl::string_view ca_pem,
                                               std::optional<int64_t> at = std::nullopt);

}  // namespace fdattest

#endif  // FDATTEST_VERIFIER_TPM_IDENTITY_H_
