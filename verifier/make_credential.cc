#include "verifier/make_credential.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/param_build.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>

#include <cstdint>
#include <cstring>
#include <memory>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/openssl_ptr.h"
#include "common/tpm_wire.h"

namespace fdattest {
namespace {

// Part 1, B.10.4: the label that binds the encrypted seed to its use.
constexpr char kIdentityLabel[] = "IDENTITY";  // sent with its terminating zero

constexpr TPMA_OBJECT kStorageKeyAttributes = TPMA_OBJECT_RESTRICTED | TPMA_OBJECT_DECRYPT;

struct CipherCtxDeleter {
  void operator()(EVP_CIPHER_CTX* p) const { EVP_CIPHER_CTX_free(p); }
};

const uint8_t* Bytes(absl::string_view s) { return reinterpret_cast<const uint8_t*>(s.data()); }

// The OpenSSL digest for a TPM hash algorithm this module accepts. SHA-1 is
// refused: a credential bound with it would rest on a broken hash.
absl::StatusOr<const EVP_MD*> DigestFor(TPMI_ALG_HASH hash) {
  switch (hash) {
    case TPM2_ALG_SHA256:
      return EVP_sha256();
    case TPM2_ALG_SHA384:
      return EVP_sha384();
    case TPM2_ALG_SHA512:
      return EVP_sha512();
    default:
      return absl::InvalidArgumentError(
          absl::StrFormat("hash algorithm 0x%04x is not SHA-256, SHA-384 or SHA-512", hash));
  }
}

absl::StatusOr<const EVP_CIPHER*> CfbCipherFor(const TPMT_SYM_DEF_OBJECT& sym) {
  if (sym.algorithm != TPM2_ALG_AES || sym.mode.aes != TPM2_ALG_CFB) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "EK: symmetric algorithm 0x%04x mode 0x%04x is not AES-CFB", sym.algorithm, sym.mode.aes));
  }
  switch (sym.keyBits.aes) {
    case 128:
      return EVP_aes_128_cfb128();
    case 192:
      return EVP_aes_192_cfb128();
    case 256:
      return EVP_aes_256_cfb128();
    default:
      return absl::InvalidArgumentError(
          absl::StrFormat("EK: AES key of %d bits", sym.keyBits.aes));
  }
}

absl::StatusOr<EvpPkeyPtr> RsaPublicKey(const TPMT_PUBLIC& area) {
  const TPMS_RSA_PARMS& rsa = area.parameters.rsaDetail;
  if (rsa.keyBits != 2048 && rsa.keyBits != 3072 && rsa.keyBits != 4096) {
    return absl::InvalidArgumentError(absl::StrFormat("EK: RSA key of %d bits", rsa.keyBits));
  }
  if (area.unique.rsa.size != rsa.keyBits / 8) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "EK: %d-byte modulus for a %d-bit key", area.unique.rsa.size, rsa.keyBits));
  }
  // Part 2: an exponent of zero stands for the default, 2^16 + 1.
  const uint32_t exponent = rsa.exponent == 0 ? 65537 : rsa.exponent;
  BignumPtr n(BN_bin2bn(area.unique.rsa.buffer, area.unique.rsa.size, nullptr));
  BignumPtr e(BN_new());
  std::unique_ptr<OSSL_PARAM_BLD, decltype(&OSSL_PARAM_BLD_free)> bld(OSSL_PARAM_BLD_new(),
                                                                     &OSSL_PARAM_BLD_free);
  if (!n || !e || !bld || BN_set_word(e.get(), exponent) != 1 ||
      !OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, n.get()) ||
      !OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, e.get())) {
    return OpenSslStatus("EK: building the RSA key");
  }
  std::unique_ptr<OSSL_PARAM, decltype(&OSSL_PARAM_free)> params(OSSL_PARAM_BLD_to_param(bld.get()),
                                                                 &OSSL_PARAM_free);
  EvpPkeyCtxPtr pctx(EVP_PKEY_CTX_new_from_name(nullptr, "RSA", nullptr));
  EVP_PKEY* raw = nullptr;
  if (!params || !pctx || EVP_PKEY_fromdata_init(pctx.get()) <= 0 ||
      EVP_PKEY_fromdata(pctx.get(), &raw, EVP_PKEY_PUBLIC_KEY, params.get()) <= 0) {
    return OpenSslStatus("EK: building the RSA key");
  }
  return EvpPkeyPtr(raw);
}

// Part 1, B.10.3: RSA-OAEP with the EK's nameAlg for both the label hash
// and MGF1.
absl::StatusOr<std::string> EncryptSeed(EVP_PKEY* ek, const EVP_MD* md, absl::string_view seed) {
  EvpPkeyCtxPtr ctx(EVP_PKEY_CTX_new(ek, nullptr));
  if (!ctx || EVP_PKEY_encrypt_init(ctx.get()) <= 0 ||
      EVP_PKEY_CTX_set_rsa_padding(ctx.get(), RSA_PKCS1_OAEP_PADDING) <= 0 ||
      EVP_PKEY_CTX_set_rsa_oaep_md(ctx.get(), md) <= 0 ||
      EVP_PKEY_CTX_set_rsa_mgf1_md(ctx.get(), md) <= 0) {
    return OpenSslStatus("RSA-OAEP setup");
  }
  // set0 takes ownership of an OPENSSL_malloc'ed label.
  void* label = OPENSSL_memdup(kIdentityLabel, sizeof(kIdentityLabel));
  if (label == nullptr ||
      EVP_PKEY_CTX_set0_rsa_oaep_label(ctx.get(), label, sizeof(kIdentityLabel)) <= 0) {
    OPENSSL_free(label);
    return OpenSslStatus("RSA-OAEP label");
  }
  size_t out_len = 0;
  if (EVP_PKEY_encrypt(ctx.get(), nullptr, &out_len, Bytes(seed), seed.size()) <= 0) {
    return OpenSslStatus("RSA-OAEP encrypt");
  }
  std::string out(out_len, '\0');
  if (EVP_PKEY_encrypt(ctx.get(), reinterpret_cast<uint8_t*>(out.data()), &out_len, Bytes(seed),
                       seed.size()) <= 0) {
    return OpenSslStatus("RSA-OAEP encrypt");
  }
  out.resize(out_len);
  return out;
}

// CFB with a zero IV (Part 1, "Symmetric Encryption" of a credential).
absl::StatusOr<std::string> CfbEncrypt(const EVP_CIPHER* cipher, absl::string_view key,
                                       absl::string_view plain) {
  const uint8_t iv[16] = {};
  std::unique_ptr<EVP_CIPHER_CTX, CipherCtxDeleter> ctx(EVP_CIPHER_CTX_new());
  std::string out(plain.size(), '\0');
  int len = 0;
  int tail = 0;
  if (!ctx || static_cast<size_t>(EVP_CIPHER_get_key_length(cipher)) != key.size() ||
      EVP_EncryptInit_ex(ctx.get(), cipher, nullptr, Bytes(key), iv) != 1 ||
      EVP_EncryptUpdate(ctx.get(), reinterpret_cast<uint8_t*>(out.data()), &len, Bytes(plain),
                        static_cast<int>(plain.size())) != 1 ||
      EVP_EncryptFinal_ex(ctx.get(), reinterpret_cast<uint8_t*>(out.data()) + len, &tail) != 1 ||
      static_cast<size_t>(len + tail) != plain.size()) {
    return OpenSslStatus("AES-CFB encrypt");
  }
  return out;
}

absl::StatusOr<std::string> Hmac(const EVP_MD* md, absl::string_view key, absl::string_view data) {
  uint8_t out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (HMAC(md, key.data(), static_cast<int>(key.size()), Bytes(data), data.size(), out, &len) ==
      nullptr) {
    return OpenSslStatus("HMAC");
  }
  return std::string(reinterpret_cast<const char*>(out), len);
}

std::string Uint16Be(size_t v) {
  return std::string{static_cast<char>((v >> 8) & 0xff), static_cast<char>(v & 0xff)};
}

std::string Uint32Be(uint32_t v) {
  return std::string{static_cast<char>(v >> 24), static_cast<char>((v >> 16) & 0xff),
                     static_cast<char>((v >> 8) & 0xff), static_cast<char>(v & 0xff)};
}

// A TPM name: a hash algorithm this module knows, then exactly its digest.
absl::Status CheckName(absl::string_view name) {
  if (name.size() < 2) return absl::InvalidArgumentError("object name: shorter than 2 bytes");
  const TPMI_ALG_HASH alg = static_cast<TPMI_ALG_HASH>((static_cast<uint8_t>(name[0]) << 8) |
                                                       static_cast<uint8_t>(name[1]));
  absl::StatusOr<const EVP_MD*> md = DigestFor(alg);
  if (!md.ok()) return absl::InvalidArgumentError(absl::StrCat("object name: ", md.status().message()));
  if (name.size() != 2 + static_cast<size_t>(EVP_MD_get_size(*md))) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "object name: %d bytes for a name of hash 0x%04x", name.size(), alg));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::string> TpmKdfa(TPMI_ALG_HASH hash, absl::string_view key,
                                    absl::string_view label, absl::string_view context_u,
                                    absl::string_view context_v, size_t bits) {
  ASSIGN_OR_RETURN(const EVP_MD* md, DigestFor(hash));
  if (bits == 0 || bits % 8 != 0 || bits > 8 * 1024) {
    return absl::InvalidArgumentError(absl::StrCat("KDFa: ", bits, " bits"));
  }
  // Part 1, "KDFa": the label ends in one zero octet, added when missing.
  std::string fixed(label);
  if (fixed.empty() || fixed.back() != '\0') fixed.push_back('\0');
  absl::StrAppend(&fixed, context_u, context_v, Uint32Be(static_cast<uint32_t>(bits)));
  std::string out;
  for (uint32_t counter = 1; out.size() < bits / 8; ++counter) {
    ASSIGN_OR_RETURN(std::string block, Hmac(md, key, absl::StrCat(Uint32Be(counter), fixed)));
    out += block;
  }
  out.resize(bits / 8);
  return out;
}

absl::StatusOr<MadeCredential> MakeCredential(absl::string_view ek_public,
                                              absl::string_view object_name,
                                              absl::string_view credential) {
  absl::StatusOr<TPM2B_PUBLIC> parsed = TpmUnmarshal<TPM2B_PUBLIC>(ek_public);
  if (!parsed.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("EK: ", parsed.status().message()));
  }
  const TPMT_PUBLIC& ek = parsed->publicArea;
  if (ek.type != TPM2_ALG_RSA) {
    return absl::InvalidArgumentError(absl::StrFormat("EK: type 0x%04x is not RSA", ek.type));
  }
  if ((ek.objectAttributes & kStorageKeyAttributes) != kStorageKeyAttributes ||
      (ek.objectAttributes & TPMA_OBJECT_SIGN_ENCRYPT) != 0) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "EK: attributes 0x%08x are not a restricted decryption key's", ek.objectAttributes));
  }
  absl::StatusOr<const EVP_MD*> md = DigestFor(ek.nameAlg);
  if (!md.ok()) return absl::InvalidArgumentError(absl::StrCat("EK nameAlg: ", md.status().message()));
  const size_t digest_bytes = static_cast<size_t>(EVP_MD_get_size(*md));
  ASSIGN_OR_RETURN(const EVP_CIPHER* cipher, CfbCipherFor(ek.parameters.rsaDetail.symmetric));
  ASSIGN_OR_RETURN(EvpPkeyPtr key, RsaPublicKey(ek));
  RETURN_IF_ERROR(CheckName(object_name));
  // Part 3, TPM2_MakeCredential: a credential larger than the nameAlg digest
  // is TPM_RC_SIZE.
  if (credential.empty() || credential.size() > digest_bytes) {
    return absl::InvalidArgumentError(absl::StrCat("credential: ", credential.size(),
                                                   " bytes; must be 1 to ", digest_bytes));
  }

  std::string seed(digest_bytes, '\0');
  if (RAND_bytes(reinterpret_cast<uint8_t*>(seed.data()), static_cast<int>(seed.size())) != 1) {
    return OpenSslStatus("RAND_bytes");
  }
  MadeCredential made;
  absl::StatusOr<std::string> encrypted_seed = EncryptSeed(key.get(), *md, seed);
  absl::StatusOr<std::string> sym_key =
      TpmKdfa(ek.nameAlg, seed, "STORAGE", object_name, "",
              ek.parameters.rsaDetail.symmetric.keyBits.aes);
  absl::StatusOr<std::string> hmac_key =
      TpmKdfa(ek.nameAlg, seed, "INTEGRITY", "", "", 8 * digest_bytes);
  OPENSSL_cleanse(seed.data(), seed.size());
  for (const absl::Status& s : {encrypted_seed.status(), sym_key.status(), hmac_key.status()}) {
    RETURN_IF_ERROR(s);
  }
  // The credential travels as a marshalled TPM2B_DIGEST, size included.
  ASSIGN_OR_RETURN(std::string enc_identity,
                   CfbEncrypt(cipher, *sym_key, absl::StrCat(Uint16Be(credential.size()), credential)));
  ASSIGN_OR_RETURN(std::string outer_hmac,
                   Hmac(*md, *hmac_key, absl::StrCat(enc_identity, object_name)));
  OPENSSL_cleanse(sym_key->data(), sym_key->size());
  OPENSSL_cleanse(hmac_key->data(), hmac_key->size());

  const std::string id_object =
      absl::StrCat(Uint16Be(outer_hmac.size()), outer_hmac, enc_identity);
  TPM2B_ID_OBJECT blob{};
  TPM2B_ENCRYPTED_SECRET secret{};
  if (id_object.size() > sizeof(blob.credential) || encrypted_seed->size() > sizeof(secret.secret)) {
    return absl::InternalError("credential blob or secret larger than its TPM2B");
  }
  blob.size = static_cast<uint16_t>(id_object.size());
  std::memcpy(blob.credential, id_object.data(), id_object.size());
  secret.size = static_cast<uint16_t>(encrypted_seed->size());
  std::memcpy(secret.secret, encrypted_seed->data(), encrypted_seed->size());
  ASSIGN_OR_RETURN(made.credential_blob, TpmMarshal(blob));
  ASSIGN_OR_RETURN(made.encrypted_secret, TpmMarshal(secret));
  return made;
}

}  // namespace fdattest
