// Who signed: the attester's EK certificate checked against the TPM vendor
// CAs the verifier trusts, and the EK's TPM public area rebuilt from that
// certificate (TCG default RSA 2048 template) so that the AK's qualified name
// can be recomputed — binding the AK to a certified TPM (DESIGN.md, verifier
// pipeline step 3). OpenSSL and tss2-mu only. Stateless; thread-safe.
#ifndef FDATTEST_VERIFIER_TPM_IDENTITY_H_
#define FDATTEST_VERIFIER_TPM_IDENTITY_H_

#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"
#include "common/status.h"

namespace fdattest {

// Unauthenticated unless the DER certificate chains to one of the PEM
// certificates in `ca_pem` (at least one; each trusted as an anchor) and is
// valid now. InvalidArgument for undecodable input.
absl::Status CheckEkCertificate(absl::string_view ek_der, absl::string_view ca_pem);

// The certificate's validity period, as unix seconds.
struct CertificateValidity {
  int64_t not_before = 0;
  int64_t not_after = 0;
};
absl::StatusOr<CertificateValidity> EkCertificateValidity(absl::string_view ek_der);

// The marshalled TPM2B_PUBLIC of the EK the certificate certifies: the TCG EK
// Credential Profile's RSA 2048 template (L-1) with the certificate's
// modulus. InvalidArgument unless the key is RSA 2048 with exponent 65537.
absl::StatusOr<std::string> EkPublicFromCertificate(absl::string_view ek_der);

}  // namespace fdattest

#endif  // FDATTEST_VERIFIER_TPM_IDENTITY_H_
