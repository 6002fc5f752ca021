#include "verifier/audit/signed_note.h"

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <limits>
#include <set>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/base64.h"
#include "common/openssl_ptr.h"
#include "common/sha256.h"

namespace fdattest {
namespace {

constexpr size_t kEd25519KeyBytes = 32;
constexpr size_t kEd25519SigBytes = 64;
constexpr size_t kTimestampBytes = 8;
// "— ": U+2014 EM DASH in UTF-8, then a space.
constexpr absl::string_view kSigPrefix = "\xE2\x80\x94 ";

// Decodes one UTF-8 sequence at the start of `s` (non-empty): its code point
// and length, or -1 for anything but the shortest form of a scalar value.
std::pair<int32_t, size_t> DecodeUtf8(absl::string_view s) {
  const auto b0 = static_cast<uint8_t>(s[0]);
  if (b0 < 0x80) return {b0, 1};
  size_t len;
  int32_t cp;
  int32_t min;
  if ((b0 & 0xE0) == 0xC0) {
    len = 2, cp = b0 & 0x1F, min = 0x80;
  } else if ((b0 & 0xF0) == 0xE0) {
    len = 3, cp = b0 & 0x0F, min = 0x800;
  } else if ((b0 & 0xF8) == 0xF0) {
    len = 4, cp = b0 & 0x07, min = 0x10000;
  } else {
    return {-1, 1};
  }
  if (s.size() < len) return {-1, 1};
  for (size_t i = 1; i < len; ++i) {
    const auto b = static_cast<uint8_t>(s[i]);
    if ((b & 0xC0) != 0x80) return {-1, 1};
    cp = (cp << 6) | (b & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return {-1, 1};
  return {cp, len};
}

// Unicode White_Space (what Go's unicode.IsSpace and the note format mean).
bool IsUnicodeSpace(int32_t cp) {
  return (cp >= 0x09 && cp <= 0x0D) || cp == 0x20 || cp == 0x85 || cp == 0xA0 || cp == 0x1680 ||
         (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 || cp == 0x2029 || cp == 0x202F ||
         cp == 0x205F || cp == 0x3000;
}

// Valid UTF-8 with no ASCII control character other than '\n'.
absl::Status CheckUtf8NoControls(absl::string_view s, absl::string_view what) {
  for (size_t i = 0; i < s.size();) {
    auto [cp, len] = DecodeUtf8(s.substr(i));
    if (cp < 0) return absl::InvalidArgumentError(absl::StrCat(what, " is not valid UTF-8"));
    if (cp < 0x20 && cp != '\n') {
      return absl::InvalidArgumentError(
          absl::StrCat(what, " contains the control character 0x", absl::Hex(cp)));
    }
    i += len;
  }
  return absl::OkStatus();
}

std::string KeyIdHex(uint32_t id) { return absl::StrCat(absl::Hex(id, absl::kZeroPad8)); }

void PutU32(std::string& out, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<char>(v >> shift));
}

uint64_t GetU64(absl::string_view b) {
  uint64_t v = 0;
  for (size_t i = 0; i < 8; ++i) v = (v << 8) | static_cast<uint8_t>(b[i]);
  return v;
}

std::string VerifierKeyText(const std::string& name, uint32_t id, uint8_t type,
                            const std::string& public_key) {
  std::string key(1, static_cast<char>(type));
  key += public_key;
  return absl::StrCat(name, "+", KeyIdHex(id), "+", Base64Encode(key));
}

std::string SignatureLineText(const std::string& name, uint32_t id, absl::string_view sig) {
  std::string bytes;
  PutU32(bytes, id);
  bytes.append(sig.data(), sig.size());
  return absl::StrCat(kSigPrefix, name, " ", Base64Encode(bytes), "\n");
}

// --- Ed25519 through OpenSSL's EVP interface ---------------------------------

std::shared_ptr<EVP_PKEY> Share(EVP_PKEY* key) { return {key, EvpPkeyDeleter()}; }

absl::StatusOr<std::shared_ptr<EVP_PKEY>> GenerateEd25519() {
  EvpPkeyCtxPtr ctx(EVP_PKEY_CTX_new_id(EVP_PKEY_ED25519, nullptr));
  EVP_PKEY* key = nullptr;
  if (!ctx || EVP_PKEY_keygen_init(ctx.get()) != 1 || EVP_PKEY_keygen(ctx.get(), &key) != 1) {
    return OpenSslStatus("generating an Ed25519 key");
  }
  return Share(key);
}

absl::StatusOr<std::shared_ptr<EVP_PKEY>> ReadEd25519Pem(absl::string_view pem) {
  if (pem.size() > 1 << 16) return absl::InvalidArgumentError("private key PEM is too large");
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) return OpenSslStatus("reading the private key");
  // No passphrase: without this callback OpenSSL would prompt on the
  // terminal for an encrypted key.
  pem_password_cb* no_passphrase = [](char*, int, int, void*) { return 0; };
  EVP_PKEY* key = PEM_read_bio_PrivateKey(bio.get(), nullptr, no_passphrase, nullptr);
  if (key == nullptr) {
    ERR_clear_error();
    return absl::InvalidArgumentError("not a PEM private key (PKCS#8)");
  }
  std::shared_ptr<EVP_PKEY> shared = Share(key);
  if (EVP_PKEY_get_id(key) != EVP_PKEY_ED25519) {
    return absl::InvalidArgumentError("the private key is not an Ed25519 key");
  }
  return shared;
}

absl::StatusOr<std::string> RawPublicKey(EVP_PKEY* key) {
  std::string out(kEd25519KeyBytes, '\0');
  size_t len = out.size();
  if (EVP_PKEY_get_raw_public_key(key, reinterpret_cast<unsigned char*>(out.data()), &len) != 1 ||
      len != kEd25519KeyBytes) {
    return OpenSslStatus("reading the Ed25519 public key");
  }
  return out;
}

std::string PrivatePem(EVP_PKEY* key) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_PKCS8PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr,
                                            nullptr) != 1) {
    ERR_clear_error();
    return "";
  }
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  std::string pem(data, static_cast<size_t>(len));
  OPENSSL_cleanse(data, static_cast<size_t>(len));
  return pem;
}

// Ed25519 signature of `message`, or empty if OpenSSL fails.
std::string Ed25519Sign(EVP_PKEY* key, absl::string_view message) {
  EvpMdCtxPtr ctx(EVP_MD_CTX_new());
  std::string sig(kEd25519SigBytes, '\0');
  size_t len = sig.size();
  if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, nullptr, nullptr, key) != 1 ||
      EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &len,
                     reinterpret_cast<const unsigned char*>(message.data()), message.size()) != 1 ||
      len != kEd25519SigBytes) {
    ERR_clear_error();
    return "";
  }
  return sig;
}

bool Ed25519Verify(EVP_PKEY* key, absl::string_view message, absl::string_view sig) {
  if (sig.size() != kEd25519SigBytes) return false;
  EvpMdCtxPtr ctx(EVP_MD_CTX_new());
  const bool ok =
      ctx && EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr, key) == 1 &&
      EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(sig.data()), sig.size(),
                       reinterpret_cast<const unsigned char*>(message.data()),
                       message.size()) == 1;
  ERR_clear_error();
  return ok;
}

// The key material both signer classes are made from.
struct Ed25519Parts {
  std::shared_ptr<EVP_PKEY> key;
  std::string public_key;
};

absl::StatusOr<Ed25519Parts> NewParts(absl::string_view name,
                                      absl::StatusOr<std::shared_ptr<EVP_PKEY>> key) {
  RETURN_IF_ERROR(CheckNoteKeyName(name));
  RETURN_IF_ERROR(key.status());
  ASSIGN_OR_RETURN(std::string public_key, RawPublicKey(key->get()));
  return Ed25519Parts{*std::move(key), std::move(public_key)};
}

}  // namespace

absl::Status CheckNoteKeyName(absl::string_view name) {
  if (name.empty()) return absl::InvalidArgumentError("a key name must not be empty");
  for (size_t i = 0; i < name.size();) {
    auto [cp, len] = DecodeUtf8(name.substr(i));
    if (cp < 0) return absl::InvalidArgumentError("the key name is not valid UTF-8");
    if (cp == '+' || cp < 0x20 || IsUnicodeSpace(cp)) {
      return absl::InvalidArgumentError(
          "a key name must not contain '+', spaces or control characters");
    }
    i += len;
  }
  return absl::OkStatus();
}

absl::Status CheckNoteText(absl::string_view text) {
  if (text.size() > kMaxNoteBytes) return absl::InvalidArgumentError("the note text is too large");
  if (text.empty() || text.back() != '\n') {
    return absl::InvalidArgumentError("a note text must end with a newline");
  }
  return CheckUtf8NoControls(text, "the note text");
}

uint32_t NoteKeyId(absl::string_view name, uint8_t type, absl::string_view public_key) {
  std::string input(name);
  input.push_back('\n');
  input.push_back(static_cast<char>(type));
  input.append(public_key.data(), public_key.size());
  const Sha256Digest digest = Sha256(input);
  return (uint32_t{digest[0]} << 24) | (uint32_t{digest[1]} << 16) | (uint32_t{digest[2]} << 8) |
         uint32_t{digest[3]};
}

// --- NoteSigner ----------------------------------------------------------------

NoteSigner::NoteSigner(std::string name, std::shared_ptr<EVP_PKEY> key, std::string public_key)
    : name_(std::move(name)),
      key_(std::move(key)),
      public_key_(std::move(public_key)),
      key_id_(NoteKeyId(name_, kNoteSigEd25519, public_key_)) {}

absl::StatusOr<NoteSigner> NoteSigner::Generate(absl::string_view name) {
  ASSIGN_OR_RETURN(Ed25519Parts parts, NewParts(name, GenerateEd25519()));
  return NoteSigner(std::string(name), std::move(parts.key), std::move(parts.public_key));
}

absl::StatusOr<NoteSigner> NoteSigner::FromPrivateKeyPem(absl::string_view name,
                                                         absl::string_view pem) {
  ASSIGN_OR_RETURN(Ed25519Parts parts, NewParts(name, ReadEd25519Pem(pem)));
  return NoteSigner(std::string(name), std::move(parts.key), std::move(parts.public_key));
}

std::string NoteSigner::PrivateKeyPem() const { return PrivatePem(key_.get()); }

std::string NoteSigner::VerifierKey() const {
  return VerifierKeyText(name_, key_id_, kNoteSigEd25519, public_key_);
}

std::string NoteSigner::SignatureLine(absl::string_view text) const {
  std::string sig = Ed25519Sign(key_.get(), text);
  if (sig.empty()) return "";
  return SignatureLineText(name_, key_id_, sig);
}

// --- CosignatureSigner -----------------------------------------------------------

CosignatureSigner::CosignatureSigner(std::string name, std::shared_ptr<EVP_PKEY> key,
                                     std::string public_key)
    : name_(std::move(name)),
      key_(std::move(key)),
      public_key_(std::move(public_key)),
      key_id_(NoteKeyId(name_, kNoteSigCosignatureV1, public_key_)) {}

absl::StatusOr<CosignatureSigner> CosignatureSigner::Generate(absl::string_view name) {
  ASSIGN_OR_RETURN(Ed25519Parts parts, NewParts(name, GenerateEd25519()));
  return CosignatureSigner(std::string(name), std::move(parts.key), std::move(parts.public_key));
}

absl::StatusOr<CosignatureSigner> CosignatureSigner::FromPrivateKeyPem(absl::string_view name,
                                                                       absl::string_view pem) {
  ASSIGN_OR_RETURN(Ed25519Parts parts, NewParts(name, ReadEd25519Pem(pem)));
  return CosignatureSigner(std::string(name), std::move(parts.key), std::move(parts.public_key));
}

std::string CosignatureSigner::PrivateKeyPem() const { return PrivatePem(key_.get()); }

std::string CosignatureSigner::VerifierKey() const {
  return VerifierKeyText(name_, key_id_, kNoteSigCosignatureV1, public_key_);
}

std::string CosignatureSigner::SignatureLine(absl::string_view checkpoint_text,
                                             int64_t timestamp) const {
  if (timestamp < 0) return "";
  std::string sig = Ed25519Sign(key_.get(), CosignatureV1Message(checkpoint_text, timestamp));
  if (sig.empty()) return "";
  std::string bytes;
  const auto t = static_cast<uint64_t>(timestamp);
  PutU32(bytes, static_cast<uint32_t>(t >> 32));
  PutU32(bytes, static_cast<uint32_t>(t));
  bytes += sig;
  return SignatureLineText(name_, key_id_, bytes);
}

std::string CosignatureV1Message(absl::string_view checkpoint_text, int64_t timestamp) {
  return absl::StrCat("cosignature/v1\ntime ", timestamp, "\n", checkpoint_text);
}

absl::StatusOr<CosignatureV1> ParseCosignatureV1(absl::string_view signature) {
  if (signature.size() != kTimestampBytes + kEd25519SigBytes) {
    return absl::InvalidArgumentError(absl::StrCat(
        "a cosignature/v1 signature is 72 bytes (timestamp and Ed25519 signature), not ",
        signature.size()));
  }
  const uint64_t t = GetU64(signature);
  if (t > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
    return absl::InvalidArgumentError("the cosignature's timestamp exceeds 2^63 - 1");
  }
  return CosignatureV1{static_cast<int64_t>(t), std::string(signature.substr(kTimestampBytes))};
}

// --- NoteVerifier ------------------------------------------------------------------

NoteVerifier::NoteVerifier(std::string name, uint8_t type, std::shared_ptr<EVP_PKEY> key,
                           std::string public_key)
    : name_(std::move(name)),
      type_(type),
      key_(std::move(key)),
      public_key_(std::move(public_key)),
      key_id_(NoteKeyId(name_, type_, public_key_)) {}

absl::StatusOr<NoteVerifier> NoteVerifier::FromVerifierKey(absl::string_view vkey) {
  const size_t plus1 = vkey.find('+');
  const size_t plus2 = plus1 == absl::string_view::npos ? plus1 : vkey.find('+', plus1 + 1);
  if (plus2 == absl::string_view::npos) {
    return absl::InvalidArgumentError("a verifier key is <name>+<key id>+<key>");
  }
  const absl::string_view name = vkey.substr(0, plus1);
  const absl::string_view id_hex = vkey.substr(plus1 + 1, plus2 - plus1 - 1);
  RETURN_IF_ERROR(CheckNoteKeyName(name));
  uint32_t id = 0;
  if (id_hex.size() != 8) return absl::InvalidArgumentError("a key id is 8 hex digits");
  for (char c : id_hex) {
    int v;
    if (c >= '0' && c <= '9') {
      v = c - '0';
    } else if (c >= 'a' && c <= 'f') {
      v = c - 'a' + 10;
    } else if (c >= 'A' && c <= 'F') {
      v = c - 'A' + 10;
    } else {
      return absl::InvalidArgumentError("a key id is 8 hex digits");
    }
    id = (id << 4) | static_cast<uint32_t>(v);
  }
  auto key = Base64Decode(vkey.substr(plus2 + 1));
  if (!key.ok()) return absl::InvalidArgumentError("the verifier key's key is not base64");
  if (key->empty()) return absl::InvalidArgumentError("the verifier key has no key");
  const auto type = static_cast<uint8_t>((*key)[0]);
  if (type != kNoteSigEd25519 && type != kNoteSigCosignatureV1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "unsupported signature type 0x", absl::Hex(type, absl::kZeroPad2),
        " (only 0x01 Ed25519 and 0x04 Ed25519 cosignature/v1)"));
  }
  if (key->size() != 1 + kEd25519KeyBytes) {
    return absl::InvalidArgumentError("an Ed25519 verifier key holds 32 bytes of key");
  }
  std::string public_key = key->substr(1);
  if (NoteKeyId(name, type, public_key) != id) {
    return absl::InvalidArgumentError(
        "the verifier key's key id does not match its name, type and key");
  }
  EVP_PKEY* raw = EVP_PKEY_new_raw_public_key(
      EVP_PKEY_ED25519, nullptr, reinterpret_cast<const unsigned char*>(public_key.data()),
      public_key.size());
  if (raw == nullptr) {
    ERR_clear_error();
    return absl::InvalidArgumentError("not an Ed25519 public key");
  }
  return NoteVerifier(std::string(name), type, Share(raw), std::move(public_key));
}

std::string NoteVerifier::VerifierKey() const {
  return VerifierKeyText(name_, key_id_, type_, public_key_);
}

absl::StatusOr<int64_t> NoteVerifier::Verify(absl::string_view text,
                                             absl::string_view signature) const {
  const std::string who = absl::StrCat(name_, "+", KeyIdHex(key_id_));
  if (type_ == kNoteSigEd25519) {
    if (!Ed25519Verify(key_.get(), text, signature)) {
      return absl::UnauthenticatedError(absl::StrCat("the signature by ", who, " does not verify"));
    }
    return -1;
  }
  auto cosig = ParseCosignatureV1(signature);
  if (!cosig.ok()) {
    return absl::UnauthenticatedError(
        absl::StrCat("the cosignature by ", who, " is malformed: ", cosig.status().message()));
  }
  if (!Ed25519Verify(key_.get(), CosignatureV1Message(text, cosig->timestamp), cosig->signature)) {
    return absl::UnauthenticatedError(absl::StrCat("the cosignature by ", who, " does not verify"));
  }
  return cosig->timestamp;
}

// --- Notes ---------------------------------------------------------------------------

absl::StatusOr<NoteSignatureLine> ParseNoteSignatureLine(absl::string_view line) {
  if (!absl::StartsWith(line, kSigPrefix)) {
    return absl::InvalidArgumentError("a signature line starts with an em dash and a space");
  }
  line.remove_prefix(kSigPrefix.size());
  const size_t space = line.find(' ');
  if (space == absl::string_view::npos) {
    return absl::InvalidArgumentError("a signature line is '— <name> <base64 signature>'");
  }
  NoteSignatureLine out;
  out.name = std::string(line.substr(0, space));
  RETURN_IF_ERROR(CheckNoteKeyName(out.name));
  auto bytes = Base64Decode(line.substr(space + 1));
  if (!bytes.ok()) return absl::InvalidArgumentError("a signature is not base64");
  if (bytes->size() < 5) {
    return absl::InvalidArgumentError("a signature holds a key id and at least one byte");
  }
  out.key_id = (uint32_t{static_cast<uint8_t>((*bytes)[0])} << 24) |
               (uint32_t{static_cast<uint8_t>((*bytes)[1])} << 16) |
               (uint32_t{static_cast<uint8_t>((*bytes)[2])} << 8) |
               uint32_t{static_cast<uint8_t>((*bytes)[3])};
  out.signature = bytes->substr(4);
  return out;
}

absl::StatusOr<std::string> SignNote(absl::string_view text,
                                     const std::vector<const NoteSigner*>& signers) {
  RETURN_IF_ERROR(CheckNoteText(text));
  if (signers.empty()) return absl::InvalidArgumentError("a note needs at least one signer");
  std::string note = absl::StrCat(text, "\n");
  for (const NoteSigner* signer : signers) {
    std::string line = signer->SignatureLine(text);
    if (line.empty()) return absl::InternalError("Ed25519 signing failed");
    note += line;
  }
  return note;
}

absl::StatusOr<OpenedNote> OpenNote(absl::string_view note,
                                    const std::vector<NoteVerifier>& known) {
  if (note.size() > kMaxNoteBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("the note is over ", kMaxNoteBytes, " bytes"));
  }
  RETURN_IF_ERROR(CheckUtf8NoControls(note, "the note"));
  const size_t split = note.rfind("\n\n");
  if (split == absl::string_view::npos) {
    return absl::InvalidArgumentError("the note has no blank line before its signatures");
  }
  OpenedNote out;
  out.text = std::string(note.substr(0, split + 1));
  absl::string_view sigs = note.substr(split + 2);
  if (sigs.empty() || sigs.back() != '\n') {
    return absl::InvalidArgumentError("the note's signature lines must end with a newline");
  }
  std::set<std::pair<std::string, uint32_t>> listed;
  size_t count = 0;
  while (!sigs.empty()) {
    const size_t nl = sigs.find('\n');
    const absl::string_view line = sigs.substr(0, nl);
    sigs.remove_prefix(nl + 1);
    if (++count > kMaxNoteSignatures) {
      return absl::InvalidArgumentError(
          absl::StrCat("the note has more than ", kMaxNoteSignatures, " signatures"));
    }
    ASSIGN_OR_RETURN(NoteSignatureLine sig, ParseNoteSignatureLine(line));
    for (const NoteVerifier& verifier : known) {
      if (verifier.name() != sig.name || verifier.key_id() != sig.key_id) continue;
      ASSIGN_OR_RETURN(int64_t cosigned_at, verifier.Verify(out.text, sig.signature));
      if (listed.emplace(sig.name, sig.key_id).second) {
        out.signed_by.push_back(sig.name);
        out.cosigned_at.push_back(cosigned_at);
      }
      break;
    }
  }
  if (out.signed_by.empty()) {
    return absl::UnauthenticatedError("no known key signed the note");
  }
  return out;
}

}  // namespace fdattest
