// Signed notes (C2SP signed-note) with Ed25519 keys, and Ed25519 witness
// cosignatures (C2SP tlog-cosignature, cosignature/v1): the envelope of the
// audit log's checkpoints. The byte format is in docs/formats/archive.md
// ("Signed notes, checkpoints and cosignatures").
// Signers, verifiers and the functions are immutable once made; thread-safe.
#ifndef FDATTEST_VERIFIER_AUDIT_SIGNED_NOTE_H_
#define FDATTEST_VERIFIER_AUDIT_SIGNED_NOTE_H_

#include <openssl/types.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "common/status.h"

namespace fdattest {

// Signature type bytes (the key id's hash input and a vkey's first byte).
inline constexpr uint8_t kNoteSigEd25519 = 0x01;
inline constexpr uint8_t kNoteSigCosignatureV1 = 0x04;

// What OpenNote reads at most. The format asks every verifier to take at
// least 16 signatures; a checkpoint with a log signature and many witness
// cosignatures stays far below both limits.
inline constexpr size_t kMaxNoteBytes = 1 << 20;
inline constexpr size_t kMaxNoteSignatures = 100;

// Whether `name` may name a key: non-empty UTF-8 without Unicode spaces,
// '+' or ASCII control characters. InvalidArgument saying why otherwise.
absl::Status CheckNoteKeyName(absl::string_view name);
// Whether `text` may be a note's text: at most kMaxNoteBytes of UTF-8, no
// ASCII control characters but '\n', ending in '\n'.
absl::Status CheckNoteText(absl::string_view text);
// SHA-256(name || 0x0A || type || public_key)[:4], big-endian.
uint32_t NoteKeyId(absl::string_view name, uint8_t type, absl::string_view public_key);

// A note signer with an Ed25519 key (signature type 0x01), e.g. a log's
// checkpoint key named by its origin.
class NoteSigner {
 public:
  static absl::StatusOr<NoteSigner> Generate(absl::string_view name);
  // `pem`: a PKCS#8 "PRIVATE KEY" holding an Ed25519 key.
  static absl::StatusOr<NoteSigner> FromPrivateKeyPem(absl::string_view name,
                                                      absl::string_view pem);

  std::string PrivateKeyPem() const;  // PKCS#8; the caller wipes it after use
  std::string VerifierKey() const;    // "<name>+<8 hex key id>+<base64(0x01 || pub32)>"
  const std::string& name() const { return name_; }
  uint32_t key_id() const { return key_id_; }
  // "— <name> <base64(key id || Ed25519 signature of text)>\n". Empty (which
  // no note accepts) if OpenSSL fails; SignNote reports that as an error.
  std::string SignatureLine(absl::string_view text) const;

 private:
  NoteSigner(std::string name, std::shared_ptr<EVP_PKEY> key, std::string public_key);
  std::string name_;
  std::shared_ptr<EVP_PKEY> key_;
  std::string public_key_;  // 32 bytes
  uint32_t key_id_;
};

// A witness's cosigner key: Ed25519 cosignature/v1 (signature type 0x04).
// Its signature covers "cosignature/v1\ntime <timestamp>\n" followed by the
// checkpoint's note text.
class CosignatureSigner {
 public:
  static absl::StatusOr<CosignatureSigner> Generate(absl::string_view name);
  static absl::StatusOr<CosignatureSigner> FromPrivateKeyPem(absl::string_view name,
                                                             absl::string_view pem);

  std::string PrivateKeyPem() const;
  std::string VerifierKey() const;  // "<name>+<8 hex key id>+<base64(0x04 || pub32)>"
  const std::string& name() const { return name_; }
  uint32_t key_id() const { return key_id_; }
  // "— <name> <base64(key id || u64 timestamp || signature)>\n", to append
  // to a signed checkpoint's signature lines. Empty (which no note accepts)
  // for a negative timestamp or if OpenSSL fails.
  std::string SignatureLine(absl::string_view checkpoint_text, int64_t timestamp) const;

 private:
  CosignatureSigner(std::string name, std::shared_ptr<EVP_PKEY> key, std::string public_key);
  std::string name_;
  std::shared_ptr<EVP_PKEY> key_;
  std::string public_key_;
  uint32_t key_id_;
};

// A known key: a note signature key (0x01) or a cosigner key (0x04).
class NoteVerifier {
 public:
  // Strict: a valid name, exactly 8 hex digits that equal the key id
  // recomputed from name, type and key, canonical base64 of the type byte
  // and a 32-byte Ed25519 key; any other type is refused.
  static absl::StatusOr<NoteVerifier> FromVerifierKey(absl::string_view vkey);

  const std::string& name() const { return name_; }
  uint32_t key_id() const { return key_id_; }
  uint8_t type() const { return type_; }
  std::string VerifierKey() const;
  // Checks `signature` (the bytes after the key id) over `text`. For a
  // cosigner key, returns the cosignature's timestamp; for a note key, -1.
  // Unauthenticated if it does not verify.
  absl::StatusOr<int64_t> Verify(absl::string_view text, absl::string_view signature) const;

 private:
  NoteVerifier(std::string name, uint8_t type, std::shared_ptr<EVP_PKEY> key,
               std::string public_key);
  std::string name_;
  uint8_t type_;
  std::shared_ptr<EVP_PKEY> key_;
  std::string public_key_;
  uint32_t key_id_;
};

// One signature line (without its '\n'), parsed but not verified.
struct NoteSignatureLine {
  std::string name;
  uint32_t key_id = 0;
  std::string signature;  // the bytes after the key id, at least one
};
absl::StatusOr<NoteSignatureLine> ParseNoteSignatureLine(absl::string_view line);

// The bytes after a cosignature's key id: u64 big-endian timestamp || 64-byte
// Ed25519 signature. InvalidArgument for any other length or a timestamp
// above 2^63 - 1.
struct CosignatureV1 {
  int64_t timestamp = 0;
  std::string signature;  // 64 bytes
};
absl::StatusOr<CosignatureV1> ParseCosignatureV1(absl::string_view signature);
// The message a cosignature/v1 signs.
std::string CosignatureV1Message(absl::string_view checkpoint_text, int64_t timestamp);

// text || "\n" || one signature line per signer. InvalidArgument if the text
// is not a note text (CheckNoteText) or there is no signer.
absl::StatusOr<std::string> SignNote(absl::string_view text,
                                     const std::vector<const NoteSigner*>& signers);

struct OpenedNote {
  std::string text;                    // with its final '\n'
  std::vector<std::string> signed_by;  // names of the known keys that verified, in note order
  // cosigned_at[i]: the timestamp of signed_by[i]'s cosignature, or -1 when
  // signed_by[i] is a note signature key (type 0x01).
  std::vector<int64_t> cosigned_at;
};
// Opens a signed note against the known keys. The text ends at the last blank
// line; every signature line must be well formed. Signatures whose (name, key
// id) is not known are ignored; every signature by a known key is verified,
// and one that fails rejects the note (Unauthenticated), as does a note that
// no known key signed. A note over kMaxNoteBytes or with more than
// kMaxNoteSignatures lines is refused (InvalidArgument). A key that signed
// twice is listed once.
absl::StatusOr<OpenedNote> OpenNote(absl::string_view note, const std::vector<NoteVerifier>& known);

}  // namespace fdattest

#endif  // FDATTEST_VERIFIER_AUDIT_SIGNED_NOTE_H_
