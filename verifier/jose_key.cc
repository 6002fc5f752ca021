#include "verifier/jose_key.h"

#include <fcntl.h>
#include <jansson.h>
// libjose's headers have no extern "C" guards of their own.
extern "C" {
#include <jose/b64.h>
#include <jose/jwk.h>
#include <jose/jws.h>
}
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/base64.h"
#include "common/ec_key.h"
#include "common/file_io.h"
#include "common/json.h"
#include "common/unique_fd.h"
#include "verifier/internal/jose_support.h"

namespace fdattest {
namespace {

using jose_internal::JanssonPtr;
using jose_internal::JoseErrors;

constexpr size_t kMaxKeyFileBytes = 64 * 1024;
constexpr size_t kMaxJwsBytes = 4 * 1024 * 1024;
constexpr size_t kP256FieldBytes = 32;
constexpr size_t kEs256SignatureBytes = 64;
constexpr char kSelfTestPayload[] = "fdattest signing key self-test";

// A validated EC P-256 JWK: base64url members, each exactly 32 bytes.
struct EcJwk {
  std::string x, y, d;  // d empty for a public key
  std::optional<std::string> kid;
};

absl::StatusOr<std::string> DecodeField(const std::string& text, absl::string_view name,
                                        absl::string_view where) {
  auto raw = Base64UrlDecode(text);
  if (!raw.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(where, ": \"", name, "\" is not base64url: ", raw.status().message()));
  }
  if (raw->size() != kP256FieldBytes) {
    return absl::InvalidArgumentError(absl::StrCat(where, ": \"", name, "\" is ", raw->size(),
                                                   " bytes; P-256 needs ", kP256FieldBytes));
  }
  return *std::move(raw);
}

// Reads an EC P-256 JWK strictly. `want_private`: "d" is required (and
// key_ops, if listed, must allow "sign"); otherwise "d" is refused (and
// key_ops must allow "verify").
absl::StatusOr<EcJwk> ParseEcJwk(const Json& json, bool want_private, absl::string_view where) {
  const std::string w(where);
  JsonFields f(json, w);
  auto kty = f.String("kty", true);
  auto crv = f.String("crv", true);
  auto x = f.String("x", true);
  auto y = f.String("y", true);
  auto d = f.String("d", false);
  auto alg = f.String("alg", false);
  auto use = f.String("use", false);
  auto kid = f.String("kid", false);
  const Json* key_ops = f.Array("key_ops", false);
  RETURN_IF_ERROR(f.Finish());
  if (*kty != "EC")
    return absl::InvalidArgumentError(absl::StrCat(w, ": kty is \"", *kty, "\", not \"EC\""));
  if (*crv != "P-256") {
    return absl::InvalidArgumentError(absl::StrCat(w, ": crv is \"", *crv, "\", not \"P-256\""));
  }
  if (alg && *alg != "ES256") {
    return absl::InvalidArgumentError(absl::StrCat(w, ": alg is \"", *alg, "\", not \"ES256\""));
  }
  if (use && *use != "sig") {
    return absl::InvalidArgumentError(absl::StrCat(w, ": use is \"", *use, "\", not \"sig\""));
  }
  if (want_private && !d) {
    return absl::InvalidArgumentError(absl::StrCat(w, ": not a private key (no \"d\")"));
  }
  if (!want_private && d) {
    return absl::InvalidArgumentError(
        absl::StrCat(w, ": carries a private key (\"d\"); give the public JWK"));
  }
  if (key_ops != nullptr) {
    const char* op = want_private ? "sign" : "verify";
    bool found = false;
    for (const Json& item : *key_ops) {
      if (!item.is_string())
        return absl::InvalidArgumentError(absl::StrCat(w, ": key_ops must be strings"));
      found = found || item.get<std::string>() == op;
    }
    if (!found)
      return absl::InvalidArgumentError(absl::StrCat(w, ": key_ops does not allow \"", op, "\""));
  }
  ASSIGN_OR_RETURN(std::string raw_x, DecodeField(*x, "x", w));
  ASSIGN_OR_RETURN(std::string raw_y, DecodeField(*y, "y", w));
  auto point = P256PublicKey(raw_x, raw_y);
  if (!point.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(w, ": ", point.status().message()));
  }
  if (d) {
    ASSIGN_OR_RETURN(std::string raw_d, DecodeField(*d, "d", w));
    OPENSSL_cleanse(raw_d.data(), raw_d.size());
  }
  return EcJwk{*x, *y, d.value_or(""), kid};
}

// The jansson form libjose works on: kty, crv, x, y, alg (and d).
absl::StatusOr<JanssonPtr> ToJansson(const EcJwk& key) {
  JanssonPtr jwk(json_pack("{s:s,s:s,s:s,s:s,s:s}", "kty", "EC", "crv", "P-256", "x", key.x.c_str(),
                           "y", key.y.c_str(), "alg", "ES256"));
  if (jwk == nullptr) return absl::InternalError("cannot build a JWK (out of memory?)");
  if (!key.d.empty() && json_object_set_new(jwk.get(), "d", json_string(key.d.c_str())) != 0) {
    return absl::InternalError("cannot build a JWK (out of memory?)");
  }
  return jwk;
}

absl::StatusOr<std::string> Thumbprint(const json_t* jwk) {
  JoseErrors errors;
  JanssonPtr thp(jose_jwk_thp(errors.cfg(), jwk, "S256"));
  if (thp == nullptr || !json_is_string(thp.get())) {
    return errors.Fail(absl::StatusCode::kInternal, "cannot compute the JWK thumbprint");
  }
  return std::string(json_string_value(thp.get()), json_string_length(thp.get()));
}

std::string StringMember(const json_t* object, const char* key) {
  const json_t* value = json_object_get(object, key);
  if (!json_is_string(value)) return "";
  return std::string(json_string_value(value), json_string_length(value));
}

absl::StatusOr<std::string> CanonicalText(const Json& value) {
  auto text = CanonicalJson(value);
  if (!text.ok()) return absl::InternalError(text.status().message());
  return *std::move(text);
}

// Same bytes in, same answer out, without libjose's lenient decoding.
absl::StatusOr<std::string> DecodeSegment(absl::string_view segment, absl::string_view name) {
  if (segment.empty()) return absl::InvalidArgumentError(absl::StrCat("JWS ", name, " is empty"));
  auto raw = Base64UrlDecode(segment);
  if (!raw.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("JWS ", name, " is not base64url: ", raw.status().message()));
  }
  return *std::move(raw);
}

absl::Status CheckProtectedHeader(const std::string& header_text, const std::string& key_kid) {
  auto header = ParseJsonStrict(header_text, {.max_bytes = 4096, .max_depth = 4});
  if (!header.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("JWS protected header: ", header.status().message()));
  }
  if (!header->is_object())
    return absl::InvalidArgumentError("JWS protected header is not an object");
  // Checked before anything else so "alg":"none" is always named as such.
  auto alg = header->find("alg");
  if (alg == header->end() || !alg->is_string()) {
    return absl::UnauthenticatedError("JWS protected header has no \"alg\"");
  }
  if (alg->get<std::string>() != "ES256") {
    return absl::UnauthenticatedError(
        absl::StrCat("JWS alg is \"", alg->get<std::string>(), "\"; only ES256 is accepted"));
  }
  for (auto it = header->begin(); it != header->end(); ++it) {
    const std::string& name = it.key();
    if (name == "alg") continue;
    if (name != "kid" && name != "typ" && name != "cty") {
      // jwk/jku/x5u/x5c would name a key; the key is always the caller's.
      return absl::InvalidArgumentError(
          absl::StrCat("JWS protected header member \"", name, "\" is not accepted"));
    }
    if (!it->is_string()) {
      return absl::InvalidArgumentError(absl::StrCat("JWS header \"", name, "\" must be a string"));
    }
  }
  auto kid = header->find("kid");
  if (kid != header->end() && kid->get<std::string>() != key_kid) {
    return absl::UnauthenticatedError(absl::StrCat("JWS was signed by kid \"",
                                                   kid->get<std::string>(),
                                                   "\", not by the given key \"", key_kid, "\""));
  }
  return absl::OkStatus();
}

absl::Status CheckKeyFileMode(int fd, const std::string& path) {
  struct stat st;
  if (fstat(fd, &st) != 0) return ErrnoStatus(absl::StrCat("cannot stat ", path), errno);
  if (!S_ISREG(st.st_mode)) {
    return absl::InvalidArgumentError(absl::StrCat(path, " is not a regular file"));
  }
  if ((st.st_mode & 077) != 0) {
    char mode[8];
    snprintf(mode, sizeof(mode), "%04o", static_cast<unsigned>(st.st_mode & 07777));
    return absl::PermissionDeniedError(
        absl::StrCat("private key file ", path, " has mode ", mode,
                     ": group or other may access it; run chmod 600 ", path));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> ReadAll(int fd, const std::string& path, size_t max_bytes) {
  std::string out;
  char buf[4096];
  for (;;) {
    ssize_t n = read(fd, buf, sizeof(buf));
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus(absl::StrCat("cannot read ", path), errno);
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
    if (out.size() > max_bytes) {
      OPENSSL_cleanse(out.data(), out.size());
      return absl::InvalidArgumentError(
          absl::StrCat(path, " is larger than ", max_bytes, " bytes"));
    }
  }
  OPENSSL_cleanse(buf, sizeof(buf));
  return out;
}

// Wipes a string holding private key material when it goes out of scope.
class Wiped {
 public:
  explicit Wiped(std::string& s) : s_(s) {}
  ~Wiped() { OPENSSL_cleanse(s_.data(), s_.size()); }

 private:
  std::string& s_;
};

// The OpenSSL key of a validated private JWK (ParseEcJwk checked every
// member's encoding and the point). Whether "d" matches the point is left
// to FromJwk's self-test.
absl::StatusOr<EvpPkeyPtr> PrivateKey(const EcJwk& jwk) {
  ASSIGN_OR_RETURN(std::string x, Base64UrlDecode(jwk.x));
  ASSIGN_OR_RETURN(std::string y, Base64UrlDecode(jwk.y));
  ASSIGN_OR_RETURN(std::string d, Base64UrlDecode(jwk.d));
  Wiped wipe_d(d);
  if (x.size() != kP256FieldBytes || y.size() != kP256FieldBytes || d.size() != kP256FieldBytes) {
    return absl::InternalError("a validated JWK has a field that is not 32 bytes");
  }
  const std::string point = absl::StrCat("\x04", x, y);
  std::unique_ptr<BIGNUM, decltype(&BN_clear_free)> priv(
      BN_bin2bn(reinterpret_cast<const unsigned char*>(d.data()), static_cast<int>(d.size()),
                nullptr),
      &BN_clear_free);
  std::unique_ptr<OSSL_PARAM_BLD, decltype(&OSSL_PARAM_BLD_free)> bld(OSSL_PARAM_BLD_new(),
                                                                     &OSSL_PARAM_BLD_free);
  if (!priv || !bld ||
      !OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0) ||
      !OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(),
                                        point.size()) ||
      !OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_PRIV_KEY, priv.get())) {
    ERR_clear_error();
    return absl::InternalError("cannot build the signing key's parameters");
  }
  std::unique_ptr<OSSL_PARAM, decltype(&OSSL_PARAM_free)> params(OSSL_PARAM_BLD_to_param(bld.get()),
                                                                 &OSSL_PARAM_free);
  EvpPkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr));
  EVP_PKEY* raw = nullptr;
  if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) <= 0 ||
      EVP_PKEY_fromdata(ctx.get(), &raw, EVP_PKEY_KEYPAIR, params.get()) <= 0) {
    ERR_clear_error();
    return absl::InvalidArgumentError("the private JWK is not a usable P-256 key");
  }
  return EvpPkeyPtr(raw);
}

// ES256 over `input`: SHA-256, ECDSA, the DER signature turned into the raw
// 32-byte R and S of RFC 7518 section 3.4.
absl::StatusOr<std::string> Es256Sign(EVP_PKEY* key, absl::string_view input) {
  EvpMdCtxPtr ctx(EVP_MD_CTX_new());
  size_t der_len = 0;
  if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key) != 1 ||
      EVP_DigestSign(ctx.get(), nullptr, &der_len,
                     reinterpret_cast<const unsigned char*>(input.data()), input.size()) != 1) {
    ERR_clear_error();
    return absl::InternalError("ES256 signing failed");
  }
  std::string der(der_len, '\0');
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(der.data()), &der_len,
                     reinterpret_cast<const unsigned char*>(input.data()), input.size()) != 1) {
    ERR_clear_error();
    return absl::InternalError("ES256 signing failed");
  }
  const unsigned char* p = reinterpret_cast<const unsigned char*>(der.data());
  std::unique_ptr<ECDSA_SIG, decltype(&ECDSA_SIG_free)> sig(
      d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der_len)), &ECDSA_SIG_free);
  if (!sig) {
    ERR_clear_error();
    return absl::InternalError("OpenSSL produced an undecodable ECDSA signature");
  }
  std::string raw(kEs256SignatureBytes, '\0');
  auto* out = reinterpret_cast<unsigned char*>(raw.data());
  if (BN_bn2binpad(ECDSA_SIG_get0_r(sig.get()), out, kP256FieldBytes) != kP256FieldBytes ||
      BN_bn2binpad(ECDSA_SIG_get0_s(sig.get()), out + kP256FieldBytes, kP256FieldBytes) !=
          kP256FieldBytes) {
    return absl::InternalError("an ECDSA signature component is longer than 32 bytes");
  }
  return raw;
}

}  // namespace

// ---- SigningKey ----

void SigningKey::JwkDeleter::operator()(json_t* jwk) const {
  // Only the SigningKey holds the JWK (libjose's references end with each
  // call), so "d" is wiped before jansson frees it.
  json_t* d = json_object_get(jwk, "d");
  if (json_is_string(d)) {
    OPENSSL_cleanse(const_cast<char*>(json_string_value(d)), json_string_length(d));
  }
  json_decref(jwk);
}

SigningKey::SigningKey(JwkPtr jwk, EvpPkeyPtr pkey, std::string kid, std::string public_jwk_json)
    : jwk_(std::move(jwk)),
      pkey_(std::move(pkey)),
      kid_(std::move(kid)),
      public_jwk_json_(std::move(public_jwk_json)) {}
SigningKey::SigningKey(SigningKey&&) noexcept = default;
SigningKey& SigningKey::operator=(SigningKey&&) noexcept = default;
SigningKey::~SigningKey() = default;

absl::StatusOr<SigningKey> SigningKey::FromJwk(const Json& json, absl::string_view where) {
  ASSIGN_OR_RETURN(EcJwk parsed, ParseEcJwk(json, /*want_private=*/true, where));
  Wiped wipe_d(parsed.d);
  ASSIGN_OR_RETURN(JanssonPtr jansson, ToJansson(parsed));
  JwkPtr jwk(jansson.release());
  auto pkey = PrivateKey(parsed);
  if (!pkey.ok()) return absl::Status(pkey.status().code(), absl::StrCat(where, ": ", pkey.status().message()));
  ASSIGN_OR_RETURN(std::string kid, Thumbprint(jwk.get()));
  if (parsed.kid && *parsed.kid != kid) {
    return absl::InvalidArgumentError(absl::StrCat(where, ": kid \"", *parsed.kid,
                                                   "\" is not the key's thumbprint \"", kid, "\""));
  }
  Json pub = {{"alg", "ES256"}, {"crv", "P-256"}, {"kid", kid},   {"kty", "EC"},
              {"use", "sig"},   {"x", parsed.x},  {"y", parsed.y}};
  ASSIGN_OR_RETURN(std::string pub_text, CanonicalText(pub));
  SigningKey key(std::move(jwk), *std::move(pkey), std::move(kid), std::move(pub_text));
  // "d" must belong to (x, y): a key that cannot produce a signature its own
  // public half accepts is refused here, not at the first attestation. The
  // check is libjose's, independent of the signing code.
  ASSIGN_OR_RETURN(std::string probe, key.SignCompact(kSelfTestPayload, ""));
  if (!VerifyCompactJws(probe, key.public_jwk_json_).ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(where, ": \"d\" does not match the public key (\"x\", \"y\")"));
  }
  return key;
}

absl::StatusOr<SigningKey> SigningKey::Generate() {
  JoseErrors errors;
  JanssonPtr jwk(json_pack("{s:s}", "alg", "ES256"));
  if (jwk == nullptr || !jose_jwk_gen(errors.cfg(), jwk.get())) {
    return errors.Fail(absl::StatusCode::kInternal, "cannot generate a P-256 key");
  }
  Json json = {{"kty", StringMember(jwk.get(), "kty")},
               {"crv", StringMember(jwk.get(), "crv")},
               {"x", StringMember(jwk.get(), "x")},
               {"y", StringMember(jwk.get(), "y")},
               {"d", StringMember(jwk.get(), "d")}};
  JwkDeleter()(jwk.release());  // wipes "d"
  auto key = FromJwk(json, "generated key");
  std::string& d = json["d"].get_ref<std::string&>();
  OPENSSL_cleanse(d.data(), d.size());
  return key;
}

absl::StatusOr<SigningKey> SigningKey::Load(const std::string& path) {
  UniqueFd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY));
  if (!fd) return ErrnoStatus(absl::StrCat("cannot open key file ", path), errno);
  // The mode of the file actually opened, not of whatever the path names later.
  RETURN_IF_ERROR(CheckKeyFileMode(fd.get(), path));
  ASSIGN_OR_RETURN(std::string text, ReadAll(fd.get(), path, kMaxKeyFileBytes));
  Wiped wipe_text(text);
  ASSIGN_OR_RETURN(Json json,
                   ParseJsonStrict(text, {.max_bytes = kMaxKeyFileBytes, .max_depth = 4}));
  auto key = FromJwk(json, path);
  if (json.is_object() && json.contains("d") && json["d"].is_string()) {
    std::string& d = json["d"].get_ref<std::string&>();
    OPENSSL_cleanse(d.data(), d.size());
  }
  return key;
}

absl::Status SigningKey::Save(const std::string& path) const {
  Json json = {{"alg", "ES256"},
               {"crv", "P-256"},
               {"d", StringMember(jwk_.get(), "d")},
               {"kid", kid_},
               {"kty", "EC"},
               {"use", "sig"},
               {"x", StringMember(jwk_.get(), "x")},
               {"y", StringMember(jwk_.get(), "y")}};
  auto text_or = CanonicalText(json);
  std::string& d = json["d"].get_ref<std::string&>();
  OPENSSL_cleanse(d.data(), d.size());
  RETURN_IF_ERROR(text_or.status());
  std::string text = *std::move(text_or);
  Wiped wipe_text(text);
  text.push_back('\n');

  return CreateNewFile(path, text, 0600);
}

std::string SigningKey::PublicJwkJson() const { return public_jwk_json_; }

absl::StatusOr<std::string> SigningKey::SignCompact(absl::string_view payload,
                                                    absl::string_view typ) const {
  Json header = {{"alg", "ES256"}, {"kid", kid_}};
  if (!typ.empty()) header["typ"] = std::string(typ);
  auto header_text = CanonicalJson(header);
  if (!header_text.ok()) return absl::InvalidArgumentError("JWS typ must be UTF-8");
  std::string jws = absl::StrCat(Base64UrlEncode(*header_text), ".", Base64UrlEncode(payload));
  ASSIGN_OR_RETURN(std::string signature, Es256Sign(pkey_.get(), jws));
  absl::StrAppend(&jws, ".", Base64UrlEncode(signature));
  return jws;
}

// ---- verification ----

absl::StatusOr<std::string> VerifyCompactJws(absl::string_view jws,
                                             absl::string_view public_jwk_json) {
  ASSIGN_OR_RETURN(Json jwk_json,
                   ParseJsonStrict(public_jwk_json, {.max_bytes = 8192, .max_depth = 4}));
  ASSIGN_OR_RETURN(EcJwk key, ParseEcJwk(jwk_json, /*want_private=*/false, "public JWK"));
  ASSIGN_OR_RETURN(JanssonPtr jwk, ToJansson(key));
  ASSIGN_OR_RETURN(std::string kid, Thumbprint(jwk.get()));
  if (key.kid && *key.kid != kid) {
    return absl::InvalidArgumentError(absl::StrCat("public JWK: kid \"", *key.kid,
                                                   "\" is not the key's thumbprint \"", kid, "\""));
  }

  if (jws.size() > kMaxJwsBytes) {
    return absl::InvalidArgumentError(absl::StrCat("JWS is larger than ", kMaxJwsBytes, " bytes"));
  }
  if (jws.find_first_of(" \t\r\n") != absl::string_view::npos) {
    return absl::InvalidArgumentError("JWS contains whitespace (a trailing newline?)");
  }
  std::vector<absl::string_view> parts = absl::StrSplit(jws, '.');
  if (parts.size() != 3) {
    return absl::InvalidArgumentError(
        absl::StrCat("a compact JWS has 3 dot-separated parts, this has ", parts.size()));
  }
  ASSIGN_OR_RETURN(std::string header, DecodeSegment(parts[0], "protected header"));
  ASSIGN_OR_RETURN(std::string payload, DecodeSegment(parts[1], "payload"));
  ASSIGN_OR_RETURN(std::string signature, DecodeSegment(parts[2], "signature"));
  RETURN_IF_ERROR(CheckProtectedHeader(header, kid));
  if (signature.size() != kEs256SignatureBytes) {
    return absl::UnauthenticatedError(
        absl::StrCat("ES256 signature is ", signature.size(), " bytes, not 64 (raw R||S)"));
  }

  // Only the three parts go to libjose: no unprotected header, no embedded key.
  JanssonPtr object(json_pack("{s:s%,s:s%,s:s%}", "protected", parts[0].data(), parts[0].size(),
                              "payload", parts[1].data(), parts[1].size(), "signature",
                              parts[2].data(), parts[2].size()));
  if (object == nullptr) return absl::InternalError("cannot build a JWS object");
  JoseErrors errors;
  if (!jose_jws_ver(errors.cfg(), object.get(), nullptr, jwk.get(), false)) {
    return errors.Fail(absl::StatusCode::kUnauthenticated,
                       absl::StrCat("JWS signature does not verify with key ", kid));
  }
  return payload;
}

}  // namespace fdattest
