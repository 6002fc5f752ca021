#include "tests/support/software_ek.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509v3.h>

#include <atomic>
#include <memory>

#include "absl/strings/str_cat.h"
#include "common/tpm_ek_template.h"
#include "common/tpm_wire.h"
#include "gtest/gtest.h"
#include "verifier/make_credential.h"

namespace fdattest::testing {
namespace {

void SetName(X509_NAME* name, absl::string_view cn) {
  const std::string text(cn);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(text.c_str()), -1, -1, 0);
}

void AddExtension(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
  ASSERT_NE(ext, nullptr);
  X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
}

X509Ptr NewCertificate(EVP_PKEY* subject_key, absl::string_view cn, long serial) {
  X509Ptr cert(X509_new());
  X509_set_version(cert.get(), 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), serial);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 86400);
  SetName(X509_get_subject_name(cert.get()), cn);
  X509_set_pubkey(cert.get(), subject_key);
  return cert;
}

std::string Der(X509* cert) {
  unsigned char* der = nullptr;
  const int n = i2d_X509(cert, &der);
  EXPECT_GT(n, 0);
  std::string out(reinterpret_cast<const char*>(der), static_cast<size_t>(n));
  OPENSSL_free(der);
  return out;
}

std::string OaepDecrypt(EVP_PKEY* key, absl::string_view in) {
  EvpPkeyCtxPtr ctx(EVP_PKEY_CTX_new(key, nullptr));
  void* label = OPENSSL_memdup("IDENTITY", 9);
  std::string out(512, '\0');
  size_t len = out.size();
  if (EVP_PKEY_decrypt_init(ctx.get()) != 1 ||
      EVP_PKEY_CTX_set_rsa_padding(ctx.get(), RSA_PKCS1_OAEP_PADDING) != 1 ||
      EVP_PKEY_CTX_set_rsa_oaep_md(ctx.get(), EVP_sha256()) != 1 ||
      EVP_PKEY_CTX_set0_rsa_oaep_label(ctx.get(), label, 9) != 1 ||
      EVP_PKEY_decrypt(ctx.get(), reinterpret_cast<unsigned char*>(out.data()), &len,
                       reinterpret_cast<const unsigned char*>(in.data()), in.size()) != 1) {
    return "";
  }
  out.resize(len);
  return out;
}

uint16_t Be16(absl::string_view s) {
  return static_cast<uint16_t>((static_cast<uint8_t>(s[0]) << 8) | static_cast<uint8_t>(s[1]));
}

}  // namespace

TestCa MakeTestCa(absl::string_view common_name) {
  TestCa ca;
  ca.key.reset(EVP_EC_gen("P-256"));
  ca.cert = NewCertificate(ca.key.get(), common_name, 1);
  X509_set_issuer_name(ca.cert.get(), X509_get_subject_name(ca.cert.get()));
  AddExtension(ca.cert.get(), ca.cert.get(), NID_basic_constraints, "critical,CA:TRUE");
  AddExtension(ca.cert.get(), ca.cert.get(), NID_key_usage, "critical,keyCertSign,cRLSign");
  EXPECT_GT(X509_sign(ca.cert.get(), ca.key.get(), EVP_sha256()), 0);
  BioPtr bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_X509(bio.get(), ca.cert.get());
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio.get(), &data);
  ca.pem.assign(data, static_cast<size_t>(n));
  return ca;
}

SoftwareEk MakeSoftwareEk(const TestCa* ca, TPMI_ALG_HASH name_alg, uint16_t aes_bits) {
  static std::atomic<long> serial{1};
  SoftwareEk ek;
  ek.key.reset(EVP_RSA_gen(2048));
  BIGNUM* n_raw = nullptr;
  EXPECT_EQ(EVP_PKEY_get_bn_param(ek.key.get(), OSSL_PKEY_PARAM_RSA_N, &n_raw), 1);
  BignumPtr n(n_raw);
  TPM2B_PUBLIC pub = RsaEkTemplate();
  pub.publicArea.nameAlg = name_alg;
  pub.publicArea.parameters.rsaDetail.symmetric.keyBits.aes = aes_bits;
  EXPECT_EQ(BN_bn2binpad(n.get(), pub.publicArea.unique.rsa.buffer, 256), 256);
  ek.ek_public = TpmMarshal(pub).value_or("");
  if (ca != nullptr) {
    X509Ptr cert = NewCertificate(ek.key.get(), "test EK", ++serial);
    X509_set_issuer_name(cert.get(), X509_get_subject_name(ca->cert.get()));
    EXPECT_GT(X509_sign(cert.get(), ca->key.get(), EVP_sha256()), 0);
    ek.certificate = Der(cert.get());
  }
  return ek;
}

std::string MakeAkPublic(TPMA_OBJECT attributes) {
  EvpPkeyPtr key(EVP_EC_gen("P-256"));
  BIGNUM* x_raw = nullptr;
  BIGNUM* y_raw = nullptr;
  EXPECT_EQ(EVP_PKEY_get_bn_param(key.get(), OSSL_PKEY_PARAM_EC_PUB_X, &x_raw), 1);
  EXPECT_EQ(EVP_PKEY_get_bn_param(key.get(), OSSL_PKEY_PARAM_EC_PUB_Y, &y_raw), 1);
  BignumPtr x(x_raw), y(y_raw);
  TPM2B_PUBLIC t{};
  TPMT_PUBLIC& p = t.publicArea;
  p.type = TPM2_ALG_ECC;
  p.nameAlg = TPM2_ALG_SHA256;
  p.objectAttributes = attributes;
  p.parameters.eccDetail.symmetric.algorithm = TPM2_ALG_NULL;
  p.parameters.eccDetail.scheme.scheme = TPM2_ALG_ECDSA;
  p.parameters.eccDetail.scheme.details.ecdsa.hashAlg = TPM2_ALG_SHA256;
  p.parameters.eccDetail.curveID = TPM2_ECC_NIST_P256;
  p.parameters.eccDetail.kdf.scheme = TPM2_ALG_NULL;
  p.unique.ecc.x.size = 32;
  p.unique.ecc.y.size = 32;
  BN_bn2binpad(x.get(), p.unique.ecc.x.buffer, 32);
  BN_bn2binpad(y.get(), p.unique.ecc.y.buffer, 32);
  return TpmMarshal(t).value_or("");
}

absl::StatusOr<std::string> SoftwareActivate(const SoftwareEk& ek, absl::string_view name,
                                             absl::string_view credential_blob,
                                             absl::string_view encrypted_secret) {
  ASSIGN_OR_RETURN(TPM2B_ENCRYPTED_SECRET secret,
                   TpmUnmarshal<TPM2B_ENCRYPTED_SECRET>(encrypted_secret));
  ASSIGN_OR_RETURN(TPM2B_ID_OBJECT blob, TpmUnmarshal<TPM2B_ID_OBJECT>(credential_blob));
  std::string seed = OaepDecrypt(
      ek.key.get(), absl::string_view(reinterpret_cast<const char*>(secret.secret), secret.size));
  if (seed.size() != 32) return absl::InvalidArgumentError("seed does not decrypt");
  const std::string id(reinterpret_cast<const char*>(blob.credential), blob.size);
  if (id.size() <= 34 || Be16(id) != 32) return absl::InvalidArgumentError("blob layout");
  const std::string outer_hmac = id.substr(2, 32);
  const std::string enc_identity = id.substr(34);
  ASSIGN_OR_RETURN(std::string hmac_key,
                   TpmKdfa(TPM2_ALG_SHA256, seed, "INTEGRITY", "", "", 256));
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int mac_len = 0;
  const std::string covered = absl::StrCat(enc_identity, name);
  HMAC(EVP_sha256(), hmac_key.data(), static_cast<int>(hmac_key.size()),
       reinterpret_cast<const unsigned char*>(covered.data()), covered.size(), mac, &mac_len);
  if (mac_len != 32 || CRYPTO_memcmp(mac, outer_hmac.data(), 32) != 0) {
    return absl::InvalidArgumentError("integrity");
  }
  ASSIGN_OR_RETURN(std::string sym_key, TpmKdfa(TPM2_ALG_SHA256, seed, "STORAGE", name, "", 128));
  std::unique_ptr<EVP_CIPHER_CTX, decltype(&EVP_CIPHER_CTX_free)> ctx(EVP_CIPHER_CTX_new(),
                                                                       &EVP_CIPHER_CTX_free);
  const unsigned char iv[16] = {};
  std::string plain(enc_identity.size(), '\0');
  int len = 0;
  if (EVP_DecryptInit_ex(ctx.get(), EVP_aes_128_cfb128(), nullptr,
                         reinterpret_cast<const unsigned char*>(sym_key.data()), iv) != 1 ||
      EVP_DecryptUpdate(ctx.get(), reinterpret_cast<unsigned char*>(plain.data()), &len,
                        reinterpret_cast<const unsigned char*>(enc_identity.data()),
                        static_cast<int>(enc_identity.size())) != 1) {
    return absl::InternalError("AES-CFB");
  }
  if (plain.size() < 2 || Be16(plain) + 2u != plain.size()) {
    return absl::InvalidArgumentError("credential size");
  }
  return plain.substr(2);
}

}  // namespace fdattest::testing
