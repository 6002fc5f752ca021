// Signed notes and cosignatures: the published C2SP vectors, round trips and
// every rule OpenNote and the key parsers enforce.
#include "verifier/audit/signed_note.h"

#include <openssl/evp.h>
#include <openssl/pem.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/base64.h"
#include "common/openssl_ptr.h"
#include "gtest/gtest.h"

namespace fdattest {
namespace {

constexpr absl::string_view kDash = "\xE2\x80\x94";  // U+2014

// The signed-note specification's example key and signature.
constexpr absl::string_view kExampleVkey =
    "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k";
constexpr absl::string_view kExampleText = "This is an example message.\n";
constexpr absl::string_view kExampleSig =
    "Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM=";

constexpr absl::string_view kCheckpoint =
    "example.com/log\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n";

NoteSigner MustSigner(absl::string_view name) {
  auto s = NoteSigner::Generate(name);
  EXPECT_TRUE(s.ok()) << s.status();
  return *std::move(s);
}

CosignatureSigner MustCosigner(absl::string_view name) {
  auto s = CosignatureSigner::Generate(name);
  EXPECT_TRUE(s.ok()) << s.status();
  return *std::move(s);
}

NoteVerifier MustVerifier(absl::string_view vkey) {
  auto v = NoteVerifier::FromVerifierKey(vkey);
  EXPECT_TRUE(v.ok()) << v.status();
  return *std::move(v);
}

std::string Sign(absl::string_view text, std::vector<const NoteSigner*> signers) {
  auto note = SignNote(text, signers);
  EXPECT_TRUE(note.ok()) << note.status();
  return note.ok() ? *note : "";
}

// The line "— <name> <base64(bytes)>\n".
std::string Line(absl::string_view name, absl::string_view bytes) {
  return absl::StrCat(kDash, " ", name, " ", Base64Encode(bytes), "\n");
}

std::string Be32(uint32_t v) {
  std::string s;
  for (int shift = 24; shift >= 0; shift -= 8) s.push_back(static_cast<char>(v >> shift));
  return s;
}

std::string Be64(uint64_t v) {
  return Be32(static_cast<uint32_t>(v >> 32)) + Be32(static_cast<uint32_t>(v));
}

// Ed25519 straight through OpenSSL, independent of the code under test.
std::string RawSign(const std::string& pem, absl::string_view message) {
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  EvpPkeyPtr key(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  EXPECT_TRUE(key);
  EvpMdCtxPtr ctx(EVP_MD_CTX_new());
  std::string sig(64, '\0');
  size_t len = sig.size();
  EXPECT_EQ(EVP_DigestSignInit(ctx.get(), nullptr, nullptr, nullptr, key.get()), 1);
  EXPECT_EQ(EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &len,
                           reinterpret_cast<const unsigned char*>(message.data()), message.size()),
            1);
  return sig;
}

bool RawVerify(absl::string_view public_key, absl::string_view message, absl::string_view sig) {
  EvpPkeyPtr key(EVP_PKEY_new_raw_public_key(
      EVP_PKEY_ED25519, nullptr, reinterpret_cast<const unsigned char*>(public_key.data()),
      public_key.size()));
  EvpMdCtxPtr ctx(EVP_MD_CTX_new());
  return key && EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr, key.get()) == 1 &&
         EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(sig.data()),
                          sig.size(), reinterpret_cast<const unsigned char*>(message.data()),
                          message.size()) == 1;
}

// The base64 part of a vkey (which may itself hold '+').
absl::string_view KeyPartOf(absl::string_view vkey) {
  return vkey.substr(vkey.find('+', vkey.find('+') + 1) + 1);
}

// The 32-byte public key inside a vkey.
std::string PublicKeyOf(absl::string_view vkey) {
  auto bytes = Base64Decode(KeyPartOf(vkey));
  EXPECT_TRUE(bytes.ok());
  return bytes->substr(1);
}

// Replaces the signature bytes of the line of `name` in `note`.
std::string WithSignatureBytes(const std::string& note, absl::string_view name,
                               const std::string& bytes) {
  const std::string prefix = absl::StrCat(kDash, " ", name, " ");
  const size_t at = note.find(prefix);
  EXPECT_NE(at, std::string::npos);
  const size_t end = note.find('\n', at);
  return note.substr(0, at) + Line(name, bytes) + note.substr(end + 1);
}

std::string SignatureBytesOf(const std::string& note, absl::string_view name) {
  const std::string prefix = absl::StrCat(kDash, " ", name, " ");
  const size_t at = note.find(prefix) + prefix.size();
  auto bytes = Base64Decode(note.substr(at, note.find('\n', at) - at));
  EXPECT_TRUE(bytes.ok());
  return *bytes;
}

TEST(SignedNoteTest, VerifiesThePublishedExample) {
  NoteVerifier v = MustVerifier(kExampleVkey);
  EXPECT_EQ(v.name(), "example.com/foo");
  EXPECT_EQ(v.key_id(), 0x530d903au);
  EXPECT_EQ(v.type(), kNoteSigEd25519);
  EXPECT_EQ(NoteKeyId("example.com/foo", kNoteSigEd25519, PublicKeyOf(kExampleVkey)),
            0x530d903au);
  EXPECT_EQ(v.VerifierKey(), kExampleVkey);

  const std::string note =
      absl::StrCat(kExampleText, "\n", kDash, " example.com/foo ", kExampleSig, "\n");
  auto opened = OpenNote(note, {v});
  ASSERT_TRUE(opened.ok()) << opened.status();
  EXPECT_EQ(opened->text, kExampleText);
  EXPECT_EQ(opened->signed_by, std::vector<std::string>{"example.com/foo"});
  EXPECT_EQ(opened->cosigned_at, std::vector<int64_t>{-1});

  std::string edited = note;
  edited[0] = 't';
  EXPECT_EQ(OpenNote(edited, {v}).status().code(), absl::StatusCode::kUnauthenticated);
}

TEST(SignedNoteTest, ParsesThePublishedCosignature) {
  auto bytes = Base64Decode(
      "ZGhGuQAAAABm/qTPeyKXD+R2rzyQsxPiP8mXum7qq/iF0u4vanlqJyocWODBt97w9uL+8qT7S5gxEHWWOworDcFiEBYJ"
      "XORmnFBOBA==");
  ASSERT_TRUE(bytes.ok());
  auto line = ParseNoteSignatureLine(absl::StrCat(kDash, " w ", Base64Encode(*bytes)));
  ASSERT_TRUE(line.ok()) << line.status();
  EXPECT_EQ(line->key_id, 0x646846b9u);
  auto cosig = ParseCosignatureV1(line->signature);
  ASSERT_TRUE(cosig.ok()) << cosig.status();
  EXPECT_EQ(cosig->timestamp, 1727964367);
  EXPECT_EQ(cosig->signature, bytes->substr(12));
}

TEST(SignedNoteTest, SignsAndOpensARoundTrip) {
  NoteSigner signer = MustSigner("example.com/log");
  const std::string vkey = signer.VerifierKey();
  EXPECT_TRUE(absl::StartsWith(vkey, absl::StrCat("example.com/log+",
                                                  absl::Hex(signer.key_id(), absl::kZeroPad8),
                                                  "+")));
  auto key_bytes = Base64Decode(KeyPartOf(vkey));
  ASSERT_TRUE(key_bytes.ok());
  ASSERT_EQ(key_bytes->size(), 33u);
  EXPECT_EQ((*key_bytes)[0], '\x01');
  EXPECT_EQ(signer.key_id(), NoteKeyId("example.com/log", 0x01, key_bytes->substr(1)));

  const std::string text = "first\n\nafter a blank line\n";
  const std::string note = Sign(text, {&signer});
  auto opened = OpenNote(note, {MustVerifier(vkey)});
  ASSERT_TRUE(opened.ok()) << opened.status();
  EXPECT_EQ(opened->text, text);  // the text ends at the last blank line
  EXPECT_EQ(opened->signed_by, std::vector<std::string>{"example.com/log"});
  // The signature is plain Ed25519 over the text.
  EXPECT_TRUE(RawVerify(key_bytes->substr(1), text,
                        SignatureBytesOf(note, "example.com/log").substr(4)));

  // The PEM reloads as the same key (Ed25519 signatures are deterministic).
  const std::string pem = signer.PrivateKeyPem();
  EXPECT_TRUE(absl::StartsWith(pem, "-----BEGIN PRIVATE KEY-----\n"));
  auto again = NoteSigner::FromPrivateKeyPem("example.com/log", pem);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->VerifierKey(), vkey);
  EXPECT_EQ(again->SignatureLine(text), signer.SignatureLine(text));
  EXPECT_FALSE(NoteSigner::FromPrivateKeyPem("example.com/log", "not a key").ok());
}

TEST(SignedNoteTest, RefusesANonEd25519PrivateKey) {
  EvpPkeyPtr ec(EVP_EC_gen("P-256"));
  ASSERT_TRUE(ec);
  BioPtr bio(BIO_new(BIO_s_mem()));
  ASSERT_EQ(PEM_write_bio_PKCS8PrivateKey(bio.get(), ec.get(), nullptr, nullptr, 0, nullptr,
                                          nullptr),
            1);
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  auto s = NoteSigner::FromPrivateKeyPem("n", std::string(data, static_cast<size_t>(len)));
  EXPECT_EQ(s.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(SignedNoteTest, RefusesAnEncryptedPrivateKeyWithoutAskingForAPassphrase) {
  EvpPkeyPtr ed(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"));
  ASSERT_TRUE(ed);
  BioPtr bio(BIO_new(BIO_s_mem()));
  char pass[] = "passphrase";
  ASSERT_EQ(PEM_write_bio_PKCS8PrivateKey(bio.get(), ed.get(), EVP_aes_256_cbc(), pass,
                                          sizeof(pass) - 1, nullptr, nullptr),
            1);
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  const std::string pem(data, static_cast<size_t>(len));
  ASSERT_NE(pem.find("ENCRYPTED PRIVATE KEY"), std::string::npos);
  EXPECT_EQ(NoteSigner::FromPrivateKeyPem("n", pem).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(SignedNoteTest, ABadSignatureByAKnownKeyRejectsEvenWhenAnotherVerifies) {
  NoteSigner a = MustSigner("a.example");
  NoteSigner b = MustSigner("b.example");
  std::string note = Sign("text\n", {&a, &b});
  std::string b_bytes = SignatureBytesOf(note, "b.example");
  b_bytes.back() ^= 1;
  note = WithSignatureBytes(note, "b.example", b_bytes);
  const NoteVerifier va = MustVerifier(a.VerifierKey());
  const NoteVerifier vb = MustVerifier(b.VerifierKey());
  EXPECT_EQ(OpenNote(note, {va, vb}).status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(OpenNote(note, {vb, va}).status().code(), absl::StatusCode::kUnauthenticated);
  // The bad signature's key unknown: ignored, and a's signature carries it.
  auto opened = OpenNote(note, {va});
  ASSERT_TRUE(opened.ok()) << opened.status();
  EXPECT_EQ(opened->signed_by, std::vector<std::string>{"a.example"});
}

TEST(SignedNoteTest, IgnoresUnknownKeysButNeedsOneKnownSignature) {
  NoteSigner known = MustSigner("log.example");
  NoteSigner same_name = MustSigner("log.example");  // another key: another key id
  NoteSigner other = MustSigner("other.example");
  ASSERT_NE(same_name.key_id(), known.key_id());
  const NoteVerifier v = MustVerifier(known.VerifierKey());

  auto opened = OpenNote(Sign("t\n", {&other, &same_name, &known}), {v});
  ASSERT_TRUE(opened.ok()) << opened.status();
  EXPECT_EQ(opened->signed_by, std::vector<std::string>{"log.example"});

  EXPECT_EQ(OpenNote(Sign("t\n", {&other, &same_name}), {v}).status().code(),
            absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(OpenNote(Sign("t\n", {&known}), {}).status().code(),
            absl::StatusCode::kUnauthenticated);
  // The right name with a wrong key id is someone else's key.
  std::string note = Sign("t\n", {&known});
  std::string bytes = SignatureBytesOf(note, "log.example");
  bytes[0] ^= 1;
  EXPECT_EQ(OpenNote(WithSignatureBytes(note, "log.example", bytes), {v}).status().code(),
            absl::StatusCode::kUnauthenticated);
}

TEST(SignedNoteTest, ListsAKeyThatSignedTwiceOnceAndChecksBoth) {
  NoteSigner s = MustSigner("log.example");
  const NoteVerifier v = MustVerifier(s.VerifierKey());
  const std::string line = s.SignatureLine("t\n");
  auto opened = OpenNote("t\n\n" + line + line, {v});
  ASSERT_TRUE(opened.ok()) << opened.status();
  EXPECT_EQ(opened->signed_by.size(), 1u);
  std::string bad = SignatureBytesOf("t\n\n" + line, "log.example");
  bad.back() ^= 1;
  EXPECT_EQ(OpenNote("t\n\n" + line + Line("log.example", bad), {v}).status().code(),
            absl::StatusCode::kUnauthenticated);
}

TEST(SignedNoteTest, RejectsMalformedNotes) {
  NoteSigner s = MustSigner("log.example");
  const NoteVerifier v = MustVerifier(s.VerifierKey());
  const std::string line = s.SignatureLine("t\n");
  const std::string good = "t\n\n" + line;
  ASSERT_TRUE(OpenNote(good, {v}).ok());
  const std::string unterminated = good.substr(0, good.size() - 1);
  const std::string hyphen = "t\n\n- " + line.substr(kDash.size() + 1);
  for (const std::string& note : {
           "t\n" + line,                       // no blank line
           unterminated,                       // signature block without its final newline
           good + "\n",                        // blank line after the signatures
           std::string("t\n\n"),               // no signatures
           hyphen,                             // not an em dash
           "t\n\n" + line.substr(0, line.find(' ', 4)) + "\n",  // no signature
           "t\n\n" + line + "junk\n",          // a line that is not a signature
       }) {
    EXPECT_EQ(OpenNote(note, {v}).status().code(), absl::StatusCode::kInvalidArgument) << note;
  }
}

TEST(SignedNoteTest, RejectsControlCharactersAndInvalidUtf8) {
  NoteSigner s = MustSigner("log.example");
  const NoteVerifier v = MustVerifier(s.VerifierKey());
  for (const std::string& text : {std::string("a\tb\n"), std::string("a\rb\n"),
                                 std::string("a\0b\n", 4), std::string("\xff\n"),
                                 std::string("\xC0\xAF\n"), std::string("\xED\xA0\x80\n"),
                                 std::string("\xE2\x80\n")}) {
    EXPECT_EQ(SignNote(text, {&s}).status().code(), absl::StatusCode::kInvalidArgument) << text;
    // Signed anyway (the signature is over bytes): opening still refuses it.
    EXPECT_EQ(OpenNote(text + "\n" + s.SignatureLine(text), {v}).status().code(),
              absl::StatusCode::kInvalidArgument)
        << text;
  }
  // Non-ASCII text is fine.
  EXPECT_TRUE(OpenNote(Sign("ed è subito sera\n", {&s}), {v}).ok());
}

TEST(SignedNoteTest, RefusesTextWithoutFinalNewlineAndNoSigner) {
  NoteSigner s = MustSigner("log.example");
  EXPECT_EQ(SignNote("text", {&s}).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(SignNote("", {&s}).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(SignNote("text\n", {}).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(SignedNoteTest, RefusesBadKeyNames) {
  for (const char* name : {"", "a+b", "a b", "a\tb", "a\xC2\xA0" "b", "a\xE2\x80\x83" "b",
                           "a\xE3\x80\x80" "b", "\xff"}) {
    EXPECT_EQ(NoteSigner::Generate(name).status().code(), absl::StatusCode::kInvalidArgument)
        << name;
    EXPECT_EQ(CosignatureSigner::Generate(name).status().code(),
              absl::StatusCode::kInvalidArgument)
        << name;
  }
  EXPECT_TRUE(NoteSigner::Generate("quasimodo.example/salvatore").ok());
  EXPECT_TRUE(NoteSigner::Generate("é.example").ok());
  // A signature line naming such a key makes the note malformed.
  NoteSigner s = MustSigner("log.example");
  const NoteVerifier v = MustVerifier(s.VerifierKey());
  const std::string note = Sign("t\n", {&s});
  const std::string bytes = SignatureBytesOf(note, "log.example");
  EXPECT_EQ(OpenNote(note + Line("x+y", bytes), {v}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(OpenNote(note + Line("x\xC2\xA0y", bytes), {v}).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(SignedNoteTest, RejectsATruncatedOrExtendedSignatureByAKnownKey) {
  NoteSigner s = MustSigner("log.example");
  NoteSigner good = MustSigner("good.example");  // verifies: the refusal is the bad line's
  const std::vector<NoteVerifier> v = {MustVerifier(s.VerifierKey()),
                                       MustVerifier(good.VerifierKey())};
  const std::string note = Sign("t\n", {&s, &good});
  ASSERT_TRUE(OpenNote(note, v).ok());
  const std::string bytes = SignatureBytesOf(note, "log.example");
  ASSERT_EQ(bytes.size(), 68u);
  EXPECT_EQ(OpenNote(WithSignatureBytes(note, "log.example", bytes.substr(0, 67)), v)
                .status()
                .code(),
            absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(OpenNote(WithSignatureBytes(note, "log.example", bytes + "x"), v).status().code(),
            absl::StatusCode::kUnauthenticated);
  // Under five bytes there is no signature at all: malformed.
  EXPECT_EQ(OpenNote(WithSignatureBytes(note, "log.example", bytes.substr(0, 4)), v)
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(SignedNoteTest, AcceptsSeventeenSignaturesAndRefusesOverTheCap) {
  std::vector<NoteSigner> signers;
  std::vector<NoteVerifier> known;
  for (int i = 0; i < 17; ++i) {
    signers.push_back(MustSigner(absl::StrCat("w", i, ".example")));
    known.push_back(MustVerifier(signers.back().VerifierKey()));
  }
  std::vector<const NoteSigner*> all;
  for (const NoteSigner& s : signers) all.push_back(&s);
  const std::string note = Sign("t\n", all);
  auto opened = OpenNote(note, known);
  ASSERT_TRUE(opened.ok()) << opened.status();
  EXPECT_EQ(opened->signed_by.size(), 17u);

  // kMaxNoteSignatures lines pass (unknown ones are cheap to skip), one more does not.
  const std::string unknown = MustSigner("u.example").SignatureLine("t\n");
  std::string at_cap = note;
  for (size_t i = 17; i < kMaxNoteSignatures; ++i) at_cap += unknown;
  EXPECT_TRUE(OpenNote(at_cap, known).ok());
  EXPECT_EQ(OpenNote(at_cap + unknown, known).status().code(),
            absl::StatusCode::kInvalidArgument);

  // Over kMaxNoteBytes, refused before anything else.
  NoteSigner s = MustSigner("log.example");
  const std::string big(kMaxNoteBytes, 'a');
  EXPECT_EQ(OpenNote(big + "\n\n" + s.SignatureLine(big + "\n"), {MustVerifier(s.VerifierKey())})
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(SignedNoteTest, RefusesMalformedVerifierKeys) {
  NoteSigner s = MustSigner("log.example");
  const std::string vkey = s.VerifierKey();
  const std::string name = "log.example";
  const std::string pub = PublicKeyOf(vkey);
  auto vkey_of = [&](uint8_t type, const std::string& key) {
    return absl::StrCat(name, "+", absl::Hex(NoteKeyId(name, type, key), absl::kZeroPad8), "+",
                        Base64Encode(std::string(1, static_cast<char>(type)) + key));
  };
  ASSERT_EQ(vkey_of(0x01, pub), vkey);
  EXPECT_TRUE(NoteVerifier::FromVerifierKey(vkey_of(0x04, pub)).ok());
  std::string wrong_id = vkey;
  wrong_id[name.size() + 1] = wrong_id[name.size() + 1] == '0' ? '1' : '0';
  for (const std::string& bad : {
           vkey_of(0x02, pub),                       // another signature type
           vkey_of(0x05, pub),
           vkey_of(0x01, pub.substr(1)),             // 31-byte key
           vkey_of(0x01, pub + "x"),                 // 33-byte key
           wrong_id,                                 // id does not match
           vkey.substr(0, vkey.size() - 1),          // not base64
           absl::StrCat("a b+", vkey.substr(name.size() + 1)),  // bad name
           name + "+" + vkey.substr(name.size() + 2),           // 7 hex digits
           name,                                                // no parts
           absl::StrCat(name, "+", absl::Hex(s.key_id(), absl::kZeroPad8), "+"),  // no key
       }) {
    EXPECT_EQ(NoteVerifier::FromVerifierKey(bad).status().code(),
              absl::StatusCode::kInvalidArgument)
        << bad;
  }
}

TEST(CosignatureTest, CosignsACheckpointRoundTrip) {
  NoteSigner log = MustSigner("example.com/log");
  CosignatureSigner witness = MustCosigner("witness.example/w1");
  const std::string vkey = witness.VerifierKey();
  auto key_bytes = Base64Decode(KeyPartOf(vkey));
  ASSERT_TRUE(key_bytes.ok());
  EXPECT_EQ((*key_bytes)[0], '\x04');
  EXPECT_EQ(witness.key_id(), NoteKeyId("witness.example/w1", 0x04, key_bytes->substr(1)));

  const std::string note =
      Sign(kCheckpoint, {&log}) + witness.SignatureLine(kCheckpoint, 1727964367);
  auto opened = OpenNote(note, {MustVerifier(log.VerifierKey()), MustVerifier(vkey)});
  ASSERT_TRUE(opened.ok()) << opened.status();
  EXPECT_EQ(opened->signed_by,
            (std::vector<std::string>{"example.com/log", "witness.example/w1"}));
  EXPECT_EQ(opened->cosigned_at, (std::vector<int64_t>{-1, 1727964367}));
  // The witness alone is enough to open it.
  opened = OpenNote(note, {MustVerifier(vkey)});
  ASSERT_TRUE(opened.ok()) << opened.status();
  EXPECT_EQ(opened->cosigned_at, std::vector<int64_t>{1727964367});

  // The signed message is the cosignature/v1 header, the time and the text.
  EXPECT_EQ(CosignatureV1Message(kCheckpoint, 1727964367),
            absl::StrCat("cosignature/v1\ntime 1727964367\n", kCheckpoint));
  const std::string bytes = SignatureBytesOf(note, "witness.example/w1");
  ASSERT_EQ(bytes.size(), 4u + 8u + 64u);
  EXPECT_EQ(bytes.substr(4, 8), Be64(1727964367));
  EXPECT_TRUE(RawVerify(key_bytes->substr(1),
                        absl::StrCat("cosignature/v1\ntime 1727964367\n", kCheckpoint),
                        bytes.substr(12)));

  // The PEM reloads as the same cosigner.
  auto again = CosignatureSigner::FromPrivateKeyPem("witness.example/w1", witness.PrivateKeyPem());
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->VerifierKey(), vkey);
  EXPECT_EQ(witness.SignatureLine(kCheckpoint, -1), "");
}

TEST(CosignatureTest, RejectsACosignatureOverOtherBytesOrAnotherTime) {
  NoteSigner log = MustSigner("example.com/log");
  CosignatureSigner witness = MustCosigner("witness.example/w1");
  const NoteVerifier v = MustVerifier(witness.VerifierKey());
  const std::string signed_cp = Sign(kCheckpoint, {&log});
  const std::string other = "example.com/log\n1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n";
  EXPECT_EQ(OpenNote(signed_cp + witness.SignatureLine(other, 5), {v}).status().code(),
            absl::StatusCode::kUnauthenticated);
  std::string bytes = SignatureBytesOf(signed_cp + witness.SignatureLine(kCheckpoint, 5),
                                       "witness.example/w1");
  bytes[11] = 6;  // the timestamp's last byte
  EXPECT_EQ(OpenNote(signed_cp + Line("witness.example/w1", bytes), {v}).status().code(),
            absl::StatusCode::kUnauthenticated);
  // 64 bytes (a note signature's length) is not a cosignature.
  EXPECT_EQ(OpenNote(signed_cp + Line("witness.example/w1", bytes.substr(0, 68)), {v})
                .status()
                .code(),
            absl::StatusCode::kUnauthenticated);
  // The same key as a note key (type 0x01) has another id: the cosignature
  // is not its signature.
  auto as_note_key = NoteVerifier::FromVerifierKey(absl::StrCat(
      "witness.example/w1+",
      absl::Hex(NoteKeyId("witness.example/w1", 0x01, PublicKeyOf(witness.VerifierKey())),
                absl::kZeroPad8),
      "+", Base64Encode("\x01" + PublicKeyOf(witness.VerifierKey()))));
  ASSERT_TRUE(as_note_key.ok()) << as_note_key.status();
  EXPECT_EQ(OpenNote(signed_cp + witness.SignatureLine(kCheckpoint, 5), {*as_note_key})
                .status()
                .code(),
            absl::StatusCode::kUnauthenticated);
}

TEST(CosignatureTest, RejectsATimestampAboveTwoToTheSixtyThreeMinusOne) {
  CosignatureSigner witness = MustCosigner("witness.example/w1");
  const NoteVerifier v = MustVerifier(witness.VerifierKey());
  const uint64_t max = (uint64_t{1} << 63) - 1;
  auto at_max = ParseCosignatureV1(Be64(max) + std::string(64, 's'));
  ASSERT_TRUE(at_max.ok()) << at_max.status();
  EXPECT_EQ(at_max->timestamp, static_cast<int64_t>(max));
  EXPECT_EQ(ParseCosignatureV1(Be64(max + 1) + std::string(64, 's')).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseCosignatureV1(Be64(1) + std::string(63, 's')).status().code(),
            absl::StatusCode::kInvalidArgument);

  // Correctly signed over "time 9223372036854775808": still refused.
  const std::string pem = witness.PrivateKeyPem();
  const std::string message =
      absl::StrCat("cosignature/v1\ntime ", max + 1, "\n", kCheckpoint);
  const std::string line = Line(
      "witness.example/w1", Be32(witness.key_id()) + Be64(max + 1) + RawSign(pem, message));
  EXPECT_EQ(OpenNote(absl::StrCat(kCheckpoint, "\n", line), {v}).status().code(),
            absl::StatusCode::kUnauthenticated);
  // The same construction at 2^63 - 1 verifies (so the refusal above is the timestamp's).
  const std::string ok_line =
      Line("witness.example/w1",
           Be32(witness.key_id()) + Be64(max) +
               RawSign(pem, absl::StrCat("cosignature/v1\ntime ", max, "\n", kCheckpoint)));
  auto opened = OpenNote(absl::StrCat(kCheckpoint, "\n", ok_line), {v});
  ASSERT_TRUE(opened.ok()) << opened.status();
  EXPECT_EQ(opened->cosigned_at, std::vector<int64_t>{static_cast<int64_t>(max)});
}

}  // namespace
}  // namespace fdattest
