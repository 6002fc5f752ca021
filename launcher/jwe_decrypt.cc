#include "launcher/jwe_decrypt.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>

#include <array>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/base64.h"
#include "common/ec_key.h"
#include "common/json.h"

namespace fdattest {
namespace {

constexpr size_t kCoordinateBytes = 32;
constexpr size_t kKeyBytes = 32;  // A256GCM
constexpr size_t kIvBytes = 12;
constexpr size_t kTagBytes = 16;
constexpr char kAlg[] = "ECDH-ES";
constexpr char kEnc[] = "A256GCM";

// Wipes a buffer of derived key material when it goes out of scope.
template <size_t N>
struct SecretBytes {
  std::array<unsigned char, N> b{};
  ~SecretBytes() { OPENSSL_cleanse(b.data(), b.size()); }
};

absl::Status Malformed(absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat("JWE: ", what));
}

absl::StatusOr<std::string> Segment(absl::string_view text, absl::string_view name) {
  absl::StatusOr<std::string> raw = Base64UrlDecode(text);
  if (!raw.ok()) return Malformed(absl::StrCat(name, " is not base64url: ", raw.status().message()));
  return *std::move(raw);
}

absl::StatusOr<std::string> Coordinate(const Json& epk, const char* name) {
  auto it = epk.find(name);
  if (it == epk.end() || !it->is_string()) return Malformed(absl::StrCat("epk has no \"", name, "\""));
  ASSIGN_OR_RETURN(std::string raw, Segment(it->get<std::string>(), absl::StrCat("epk.", name)));
  if (raw.size() != kCoordinateBytes) {
    return Malformed(absl::StrCat("epk.", name, " is ", raw.size(), " bytes; P-256 needs 32"));
  }
  return raw;
}

// The sender's ephemeral public key, from a header already known to be an
// object with exactly the accepted members.
absl::StatusOr<EvpPkeyPtr> EphemeralKey(const Json& header) {
  const Json& epk = header["epk"];
  if (!epk.is_object()) return Malformed("epk is not an object");
  for (auto it = epk.begin(); it != epk.end(); ++it) {
    if (it.key() != "kty" && it.key() != "crv" && it.key() != "x" && it.key() != "y") {
      return Malformed(absl::StrCat("epk member \"", it.key(), "\" is not accepted"));
    }
  }
  if (epk.value("kty", "") != "EC" || epk.value("crv", "") != "P-256") {
    return Malformed("epk must be an EC P-256 public key");
  }
  ASSIGN_OR_RETURN(std::string x, Coordinate(epk, "x"));
  ASSIGN_OR_RETURN(std::string y, Coordinate(epk, "y"));
  absl::StatusOr<EvpPkeyPtr> key = P256PublicKey(x, y);
  if (!key.ok()) return Malformed(absl::StrCat("epk: ", key.status().message()));
  return key;
}

// The protected header: exactly alg, enc, epk and kid, with the only values
// this launch accepts.
absl::StatusOr<EvpPkeyPtr> CheckHeader(const std::string& text, absl::string_view launch_id) {
  absl::StatusOr<Json> header = ParseJsonStrict(text, {.max_bytes = 4096, .max_depth = 4});
  if (!header.ok()) return Malformed(absl::StrCat("protected header: ", header.status().message()));
  if (!header->is_object()) return Malformed("protected header is not an object");
  // alg first, so that "none" or a key-wrapping algorithm is named as such.
  auto alg = header->find("alg");
  if (alg == header->end() || !alg->is_string()) return Malformed("protected header has no \"alg\"");
  if (*alg != kAlg) {
    return Malformed(absl::StrCat("alg is \"", alg->get<std::string>(), "\"; only ", kAlg,
                                  " is accepted"));
  }
  for (auto it = header->begin(); it != header->end(); ++it) {
    const std::string& name = it.key();
    if (name == "apu" || name == "apv") {
      return Malformed(absl::StrCat("\"", name, "\" is not accepted (no party information)"));
    }
    if (name != "alg" && name != "enc" && name != "epk" && name != "kid") {
      return Malformed(absl::StrCat("protected header member \"", name, "\" is not accepted"));
    }
  }
  auto enc = header->find("enc");
  if (enc == header->end() || !enc->is_string() || *enc != kEnc) {
    return Malformed(absl::StrCat("enc must be \"", kEnc, "\""));
  }
  auto kid = header->find("kid");
  if (kid == header->end() || !kid->is_string()) return Malformed("protected header has no \"kid\"");
  if (kid->get<std::string>() != launch_id) {
    return absl::UnauthenticatedError(absl::StrCat("JWE is for launch \"", kid->get<std::string>(),
                                                   "\", not this launch ", launch_id));
  }
  if (!header->contains("epk")) return Malformed("protected header has no \"epk\"");
  return EphemeralKey(*header);
}

// Z: the x coordinate of our private key times the sender's point.
absl::Status SharedSecret(EVP_PKEY* ours, EVP_PKEY* theirs, SecretBytes<kCoordinateBytes>& z) {
  EvpPkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, ours, nullptr));
  size_t len = z.b.size();
  if (!ctx || EVP_PKEY_derive_init(ctx.get()) <= 0 ||
      EVP_PKEY_derive_set_peer(ctx.get(), theirs) <= 0 ||
      EVP_PKEY_derive(ctx.get(), z.b.data(), &len) <= 0 || len != z.b.size()) {
    return OpenSslStatus("ECDH with the JWE's epk");
  }
  return absl::OkStatus();
}

void AppendBigEndian32(std::string& out, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<char>(v >> shift));
}

// RFC 7518 section 4.6.2: Concat KDF (NIST SP 800-56A single-step KDF with
// SHA-256) over Z, with OtherInfo = AlgorithmID || PartyUInfo || PartyVInfo
// || SuppPubInfo, each datum length-prefixed, the key length in bits last.
absl::Status ContentKey(const SecretBytes<kCoordinateBytes>& z, SecretBytes<kKeyBytes>& cek) {
  std::string info;
  AppendBigEndian32(info, sizeof(kEnc) - 1);
  info.append(kEnc);
  AppendBigEndian32(info, 0);  // PartyUInfo: empty
  AppendBigEndian32(info, 0);  // PartyVInfo: empty
  AppendBigEndian32(info, kKeyBytes * 8);
  EvpKdfPtr kdf(EVP_KDF_fetch(nullptr, "SSKDF", nullptr));
  EvpKdfCtxPtr ctx(kdf ? EVP_KDF_CTX_new(kdf.get()) : nullptr);
  char digest[] = "SHA256";
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, digest, 0),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, const_cast<unsigned char*>(z.b.data()),
                                        z.b.size()),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, info.data(), info.size()),
      OSSL_PARAM_construct_end()};
  if (!ctx || EVP_KDF_derive(ctx.get(), cek.b.data(), cek.b.size(), params) <= 0) {
    return OpenSslStatus("Concat KDF (SSKDF, SHA-256)");
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> OpenGcm(const SecretBytes<kKeyBytes>& cek, const std::string& iv,
                                    absl::string_view aad, const std::string& ciphertext,
                                    std::string& tag) {
  EvpCipherCtxPtr ctx(EVP_CIPHER_CTX_new());
  if (!ctx || EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, nullptr, nullptr) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN, kIvBytes, nullptr) != 1 ||
      EVP_DecryptInit_ex(ctx.get(), nullptr, nullptr, cek.b.data(),
                         reinterpret_cast<const unsigned char*>(iv.data())) != 1) {
    return OpenSslStatus("AES-256-GCM setup");
  }
  int n = 0;
  if (EVP_DecryptUpdate(ctx.get(), nullptr, &n, reinterpret_cast<const unsigned char*>(aad.data()),
                        static_cast<int>(aad.size())) != 1) {
    return OpenSslStatus("AES-256-GCM additional data");
  }
  std::string plaintext(ciphertext.size(), '\0');
  auto fail = [&](absl::Status s) {
    OPENSSL_cleanse(plaintext.data(), plaintext.size());
    ERR_clear_error();
    return s;
  };
  if (EVP_DecryptUpdate(ctx.get(), reinterpret_cast<unsigned char*>(plaintext.data()), &n,
                        reinterpret_cast<const unsigned char*>(ciphertext.data()),
                        static_cast<int>(ciphertext.size())) != 1 ||
      static_cast<size_t>(n) != ciphertext.size()) {
    return fail(OpenSslStatus("AES-256-GCM decryption"));
  }
  int final_n = 0;
  if (EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, kTagBytes, tag.data()) != 1 ||
      EVP_DecryptFinal_ex(ctx.get(), reinterpret_cast<unsigned char*>(plaintext.data()) + n,
                          &final_n) != 1) {
    return fail(absl::UnauthenticatedError(
        "JWE authentication tag does not verify (another key, or altered bytes)"));
  }
  return plaintext;
}

}  // namespace

absl::StatusOr<LaunchKey> LaunchKey::Generate() {
  EvpPkeyPtr key(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
  if (!key) return OpenSslStatus("generate the launch's P-256 key");
  BIGNUM* raw_x = nullptr;
  BIGNUM* raw_y = nullptr;
  const bool got = EVP_PKEY_get_bn_param(key.get(), OSSL_PKEY_PARAM_EC_PUB_X, &raw_x) == 1 &&
                   EVP_PKEY_get_bn_param(key.get(), OSSL_PKEY_PARAM_EC_PUB_Y, &raw_y) == 1;
  BignumPtr x(raw_x), y(raw_y);
  if (!got) return OpenSslStatus("read the launch key's public point");
  std::array<unsigned char, kCoordinateBytes> bx{}, by{};
  if (BN_bn2binpad(x.get(), bx.data(), bx.size()) != static_cast<int>(bx.size()) ||
      BN_bn2binpad(y.get(), by.data(), by.size()) != static_cast<int>(by.size())) {
    return OpenSslStatus("encode the launch key's public point");
  }
  ReleaseKey pub{
      .x = Base64UrlEncode(absl::string_view(reinterpret_cast<const char*>(bx.data()), bx.size())),
      .y = Base64UrlEncode(absl::string_view(reinterpret_cast<const char*>(by.data()), by.size()))};
  return LaunchKey(std::move(key), std::move(pub));
}

absl::StatusOr<std::string> LaunchKey::Decrypt(absl::string_view compact_jwe,
                                               absl::string_view launch_id) const {
  if (!key_) return absl::FailedPreconditionError("the launch key was moved away");
  if (compact_jwe.size() > kMaxJweBytes) {
    return Malformed(absl::StrCat("larger than ", kMaxJweBytes, " bytes"));
  }
  std::vector<absl::string_view> parts = absl::StrSplit(compact_jwe, '.');
  if (parts.size() != 5) {
    return Malformed(absl::StrCat("a compact JWE has 5 dot-separated parts, this has ",
                                  parts.size()));
  }
  if (parts[0].empty()) return Malformed("protected header is empty");
  ASSIGN_OR_RETURN(std::string header, Segment(parts[0], "protected header"));
  ASSIGN_OR_RETURN(EvpPkeyPtr epk, CheckHeader(header, launch_id));
  // ECDH-ES is direct key agreement: there is no wrapped key.
  if (!parts[1].empty()) return Malformed("the encrypted key must be empty for ECDH-ES");
  ASSIGN_OR_RETURN(std::string iv, Segment(parts[2], "IV"));
  ASSIGN_OR_RETURN(std::string ciphertext, Segment(parts[3], "ciphertext"));
  ASSIGN_OR_RETURN(std::string tag, Segment(parts[4], "tag"));
  if (iv.size() != kIvBytes) return Malformed(absl::StrCat("IV is ", iv.size(), " bytes, not 12"));
  if (tag.size() != kTagBytes) {
    return Malformed(absl::StrCat("tag is ", tag.size(), " bytes, not 16"));
  }
  SecretBytes<kCoordinateBytes> z;
  RETURN_IF_ERROR(SharedSecret(key_.get(), epk.get(), z));
  SecretBytes<kKeyBytes> cek;
  RETURN_IF_ERROR(ContentKey(z, cek));
  // The additional data is the header exactly as sent (its base64url text).
  return OpenGcm(cek, iv, parts[0], ciphertext, tag);
}

}  // namespace fdattest
