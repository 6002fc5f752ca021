// EncryptSecretForLaunch (verifier/secret_release.h) on libjose: one of the
// two files of the verifier that call jansson/libjose (jose_key.h).
#include <jansson.h>
// libjose's headers have no extern "C" guards of their own.
extern "C" {
#include <jose/jwe.h>
}
#include <openssl/crypto.h>

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/base64.h"
#include "common/ec_key.h"
#include "common/sha256.h"
#include "verifier/internal/jose_support.h"
#include "verifier/secret_release.h"

namespace fdattest {
namespace {

using jose_internal::JanssonPtr;
using jose_internal::JoseErrors;

constexpr size_t kMaxSecretBytes = 512 * 1024;

// The manifest's release_key, checked member by member: exactly kty, crv, x
// and y, the coordinates 32 bytes each and a point on P-256.
absl::Status CheckReleaseKey(const Json& jwk) {
  if (!jwk.is_object()) return absl::InvalidArgumentError("release_key is not a JWK object");
  for (auto it = jwk.begin(); it != jwk.end(); ++it) {
    if (it.key() != "kty" && it.key() != "crv" && it.key() != "x" && it.key() != "y") {
      return absl::InvalidArgumentError(
          absl::StrCat("release_key member \"", it.key(), "\" is not accepted"));
    }
    if (!it->is_string()) {
      return absl::InvalidArgumentError(absl::StrCat("release_key.", it.key(), " is not a string"));
    }
  }
  if (jwk.value("kty", "") != "EC" || jwk.value("crv", "") != "P-256") {
    return absl::InvalidArgumentError("release_key is not an EC P-256 key");
  }
  std::string raw[2];
  const char* names[2] = {"x", "y"};
  for (int i = 0; i < 2; ++i) {
    absl::StatusOr<std::string> decoded = Base64UrlDecode(jwk.value(names[i], ""));
    if (!decoded.ok() || decoded->size() != 32) {
      return absl::InvalidArgumentError(
          absl::StrCat("release_key.", names[i], " is not 32 bytes of base64url"));
    }
    raw[i] = *std::move(decoded);
  }
  absl::StatusOr<EvpPkeyPtr> point = P256PublicKey(raw[0], raw[1]);
  if (!point.ok()) return absl::InvalidArgumentError(absl::StrCat("release_key: ", point.status().message()));
  return absl::OkStatus();
}

std::string StringMember(const json_t* object, const char* key) {
  const json_t* value = json_object_get(object, key);
  if (!json_is_string(value)) return "";
  return std::string(json_string_value(value), json_string_length(value));
}

// The content key libjose derived: wiped before jansson frees it.
struct CekWiper {
  json_t* cek;
  ~CekWiper() {
    json_t* k = json_object_get(cek, "k");
    if (json_is_string(k)) OPENSSL_cleanse(const_cast<char*>(json_string_value(k)), json_string_length(k));
  }
};

}  // namespace

absl::StatusOr<std::string> EncryptSecretForLaunch(const Json& release_key_jwk,
                                                   absl::string_view plaintext,
                                                   absl::string_view launch_id) {
  RETURN_IF_ERROR(CheckReleaseKey(release_key_jwk));
  if (plaintext.empty()) return absl::InvalidArgumentError("the secret is empty");
  if (plaintext.size() > kMaxSecretBytes) {
    return absl::InvalidArgumentError(absl::StrCat("the secret is larger than ", kMaxSecretBytes,
                                                   " bytes"));
  }
  if (launch_id.size() != 32 || !IsLowerHex(launch_id)) {
    return absl::InvalidArgumentError("launch id must be 32 lowercase hex digits");
  }
  const std::string x = release_key_jwk["x"].get<std::string>();
  const std::string y = release_key_jwk["y"].get<std::string>();
  const std::string kid(launch_id);
  JanssonPtr jwk(json_pack("{s:s,s:s,s:s,s:s}", "kty", "EC", "crv", "P-256", "x", x.c_str(), "y",
                           y.c_str()));
  JanssonPtr jwe(json_pack("{s:{s:s,s:s,s:s}}", "protected", "alg", "ECDH-ES", "enc", "A256GCM",
                           "kid", kid.c_str()));
  JanssonPtr rcp(json_object());
  JanssonPtr cek(json_object());
  if (jwk == nullptr || jwe == nullptr || rcp == nullptr || cek == nullptr) {
    return absl::InternalError("cannot build a JWE (out of memory?)");
  }
  CekWiper wipe_cek{cek.get()};
  JoseErrors errors;
  // Key agreement: a fresh ephemeral key, its public half put in the header
  // ("epk"), the content key derived from the shared secret.
  if (!jose_jwe_enc_jwk(errors.cfg(), jwe.get(), rcp.get(), jwk.get(), cek.get())) {
    return errors.Fail(absl::StatusCode::kInternal, "ECDH-ES key agreement failed");
  }
  // Compact serialisation has one header, all of it protected: merge the
  // per-recipient header (epk) into the protected one before encrypting, so
  // the whole header is the additional authenticated data.
  JanssonPtr header(jose_jwe_hdr(jwe.get(), jwe.get()));
  if (header == nullptr || json_object_set(jwe.get(), "protected", header.get()) != 0) {
    return absl::InternalError("cannot merge the JWE header");
  }
  json_object_del(jwe.get(), "unprotected");
  json_object_del(jwe.get(), "header");
  if (!StringMember(jwe.get(), "encrypted_key").empty()) {
    return absl::InternalError("libjose wrapped a key for ECDH-ES (expected direct agreement)");
  }
  if (!jose_jwe_enc_cek(errors.cfg(), jwe.get(), cek.get(), plaintext.data(), plaintext.size())) {
    return errors.Fail(absl::StatusCode::kInternal, "A256GCM encryption failed");
  }
  const std::string protected_b64 = StringMember(jwe.get(), "protected");
  const std::string iv = StringMember(jwe.get(), "iv");
  const std::string ciphertext = StringMember(jwe.get(), "ciphertext");
  const std::string tag = StringMember(jwe.get(), "tag");
  if (protected_b64.empty() || iv.empty() || ciphertext.empty() || tag.empty()) {
    return absl::InternalError("libjose produced an incomplete JWE");
  }
  // The header says what the launcher will accept, nothing more.
  absl::StatusOr<std::string> header_text = Base64UrlDecode(protected_b64);
  absl::StatusOr<Json> parsed =
      header_text.ok() ? ParseJsonStrict(*header_text) : absl::StatusOr<Json>(header_text.status());
  if (!parsed.ok() || !parsed->is_object() || parsed->size() != 4 ||
      parsed->value("alg", "") != "ECDH-ES" || parsed->value("enc", "") != "A256GCM" ||
      parsed->value("kid", "") != kid || !parsed->contains("epk")) {
    return absl::InternalError("libjose produced an unexpected JWE header");
  }
  return absl::StrCat(protected_b64, "..", iv, ".", ciphertext, ".", tag);
}

}  // namespace fdattest
