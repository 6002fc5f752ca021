#include "verifier/tpm_identity.h"

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/pem.h>

#include <algorithm>
#include <climits>
#include <cstring>
#include <ctime>

#include "absl/strings/str_cat.h"
#include "common/openssl_ptr.h"
#include "common/tpm_ek_template.h"
#include "common/tpm_wire.h"

namespace fdattest {
namespace {

constexpr size_t kMaxCertificateBytes = 16384;

absl::StatusOr<X509Ptr> ParseDer(absl::string_view der) {
  if (der.empty() || der.size() > kMaxCertificateBytes) {
    return absl::InvalidArgumentError("EK certificate: empty or larger than 16 KiB");
  }
  const unsigned char* p = reinterpret_cast<const unsigned char*>(der.data());
  X509Ptr cert(d2i_X509(nullptr, &p, static_cast<long>(der.size())));
  if (cert == nullptr || p != reinterpret_cast<const unsigned char*>(der.data()) + der.size()) {
    ERR_clear_error();
    return absl::InvalidArgumentError("EK certificate: not exactly one DER certificate");
  }
  return cert;
}

absl::StatusOr<int64_t> UnixSeconds(const ASN1_TIME* t, absl::string_view what) {
  struct tm tm;
  if (t == nullptr || ASN1_TIME_to_tm(t, &tm) != 1) {
    return absl::InvalidArgumentError(absl::StrCat("EK certificate chain: unreadable ", what));
  }
  return static_cast<int64_t>(timegm(&tm));
}

// The EK's TPM public area from the certificate's RSA 2048 key.
absl::StatusOr<std::string> EkPublicOf(X509* cert) {
  EVP_PKEY* key = X509_get0_pubkey(cert);  // owned by cert
  if (key == nullptr || EVP_PKEY_get_base_id(key) != EVP_PKEY_RSA || EVP_PKEY_get_bits(key) != 2048) {
    ERR_clear_error();
    return absl::InvalidArgumentError("EK certificate: the key is not RSA 2048");
  }
  BIGNUM* n_raw = nullptr;
  BIGNUM* e_raw = nullptr;
  const bool got = EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_RSA_N, &n_raw) == 1 &&
                   EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_RSA_E, &e_raw) == 1;
  BignumPtr n(n_raw), e(e_raw);
  if (!got || !BN_is_word(e.get(), 65537)) {
    ERR_clear_error();
    return absl::InvalidArgumentError("EK certificate: RSA exponent is not 65537");
  }
  TPM2B_PUBLIC pub = RsaEkTemplate();
  if (BN_bn2binpad(n.get(), pub.publicArea.unique.rsa.buffer, 256) != 256) {
    return absl::InvalidArgumentError("EK certificate: modulus is not 256 bytes");
  }
  pub.publicArea.unique.rsa.size = 256;
  return TpmMarshal(pub);
}

}  // namespace

absl::StatusOr<CertifiedEk> CheckEkCertificate(absl::string_view ek_der, absl::string_view ca_pem,
                                               std::optional<int64_t> at) {
  ASSIGN_OR_RETURN(X509Ptr cert, ParseDer(ek_der));
  CertifiedEk out;
  ASSIGN_OR_RETURN(out.ek_public, EkPublicOf(cert.get()));
  X509StorePtr store(X509_STORE_new());
  BioPtr bio(BIO_new_mem_buf(ca_pem.data(), static_cast<int>(ca_pem.size())));
  if (store == nullptr || bio == nullptr) return absl::InternalError("out of memory");
  int anchors = 0;
  while (true) {
    X509Ptr ca(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
    if (ca == nullptr) break;
    if (X509_STORE_add_cert(store.get(), ca.get()) != 1) {
      ERR_clear_error();
      return absl::InvalidArgumentError("TPM CA file: a certificate could not be added");
    }
    ++anchors;
  }
  ERR_clear_error();
  if (anchors == 0) return absl::InvalidArgumentError("TPM CA file holds no PEM certificate");
  X509StoreCtxPtr ctx(X509_STORE_CTX_new());
  if (ctx == nullptr || X509_STORE_CTX_init(ctx.get(), store.get(), cert.get(), nullptr) != 1) {
    return absl::InternalError("X509_STORE_CTX_init failed");
  }
  if (at) X509_STORE_CTX_set_time(ctx.get(), 0, static_cast<time_t>(*at));
  if (X509_verify_cert(ctx.get()) != 1) {
    const int err = X509_STORE_CTX_get_error(ctx.get());
    ERR_clear_error();
    return absl::UnauthenticatedError(absl::StrCat(
        "EK certificate does not chain to a trusted TPM CA: ", X509_verify_cert_error_string(err)));
  }
  STACK_OF(X509)* chain = X509_STORE_CTX_get0_chain(ctx.get());  // owned by ctx
  out.not_before = INT64_MIN;
  out.not_after = INT64_MAX;
  for (int i = 0; chain != nullptr && i < sk_X509_num(chain); ++i) {
    X509* link = sk_X509_value(chain, i);
    ASSIGN_OR_RETURN(int64_t nb, UnixSeconds(X509_get0_notBefore(link), "notBefore"));
    ASSIGN_OR_RETURN(int64_t na, UnixSeconds(X509_get0_notAfter(link), "notAfter"));
    out.not_before = std::max(out.not_before, nb);
    out.not_after = std::min(out.not_after, na);
  }
  return out;
}

}  // namespace fdattest
