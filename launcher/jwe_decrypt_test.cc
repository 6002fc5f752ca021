// The launcher's JWE decryption against the independent `jose` CLI (libjose),
// and every way a JWE that is not exactly what this launch accepts is
// refused. tests/verifier/jwe_interop_test.cc adds the verifier's encryption.
#include "launcher/jwe_decrypt.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/base64.h"
#include "common/json.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/jose_test_util.h"

namespace fdattest {
namespace {

using ::testing::HasSubstr;
using testing::RunJose;
using testing::ScratchDir;

constexpr char kLaunchId[] = "00112233445566778899aabbccddeeff";
constexpr char kOtherLaunch[] = "ffeeddccbbaa99887766554433221100";

std::string Canonical(const Json& j) { return CanonicalJson(j).value(); }

class JweDecryptTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<LaunchKey> key = LaunchKey::Generate();
    ASSERT_TRUE(key.ok()) << key.status();
    key_.emplace(*std::move(key));
  }

  // `jose jwe enc` to this launch's public key, compact.
  std::string CliEncrypt(absl::string_view plaintext, const std::string& alg = "ECDH-ES",
                         const std::string& enc = "A256GCM", const std::string& kid = kLaunchId) {
    Json jwk = key_->public_key().ToJwk();
    jwk["alg"] = alg;
    dir_.Write("pub.jwk", Canonical(jwk));
    dir_.Write("msg", plaintext);
    const std::string header = Canonical({{"protected", {{"enc", enc}, {"kid", kid}}}});
    auto r = RunJose({"jwe", "enc", "-I", dir_.Path("msg"), "-k", dir_.Path("pub.jwk"), "-i",
                      header, "-c", "-o", dir_.Path("out.jwe")},
                     dir_);
    EXPECT_TRUE(r.ok() && r->exit_code == 0) << (r.ok() ? r->err : r.status().ToString());
    return dir_.Read("out.jwe");
  }

  // The JWE with part `i` replaced.
  static std::string WithPart(const std::string& jwe, size_t i, const std::string& part) {
    std::vector<std::string> parts = absl::StrSplit(jwe, '.');
    parts[i] = part;
    return absl::StrJoin(parts, ".");
  }
  static std::string Part(const std::string& jwe, size_t i) {
    std::vector<std::string> parts = absl::StrSplit(jwe, '.');
    return parts[i];
  }
  static Json Header(const std::string& jwe) {
    return ParseJsonStrict(Base64UrlDecode(Part(jwe, 0)).value()).value();
  }
  static std::string WithHeader(const std::string& jwe, const Json& header) {
    return WithPart(jwe, 0, Base64UrlEncode(Canonical(header)));
  }
  // Flips one bit of the decoded part `i`.
  static std::string Flipped(const std::string& jwe, size_t i, size_t byte = 0) {
    std::string raw = Base64UrlDecode(Part(jwe, i)).value();
    raw[byte] = static_cast<char>(raw[byte] ^ 0x01);
    return WithPart(jwe, i, Base64UrlEncode(raw));
  }

  absl::Status DecryptError(const std::string& jwe, absl::string_view launch = kLaunchId) {
    absl::StatusOr<std::string> pt = key_->Decrypt(jwe, launch);
    return pt.ok() ? absl::OkStatus() : pt.status();
  }

  ScratchDir dir_;
  std::optional<LaunchKey> key_;
};

TEST_F(JweDecryptTest, PublicKeyIsAP256JwkOf32ByteCoordinates) {
  EXPECT_EQ(key_->public_key().x.size(), 43u);
  EXPECT_EQ(Base64UrlDecode(key_->public_key().y)->size(), 32u);
  absl::StatusOr<LaunchKey> other = LaunchKey::Generate();
  ASSERT_TRUE(other.ok());
  EXPECT_NE(other->public_key().x, key_->public_key().x) << "a fresh key per launch";
}

TEST_F(JweDecryptTest, DecryptsWhatTheJoseCliEncrypts) {
  const std::string secret("binary \0\x01\xff secret", 17);
  const std::string jwe = CliEncrypt(secret);
  EXPECT_EQ(Header(jwe)["alg"], "ECDH-ES");
  absl::StatusOr<std::string> pt = key_->Decrypt(jwe, kLaunchId);
  ASSERT_TRUE(pt.ok()) << pt.status();
  EXPECT_EQ(*pt, secret);
  // Large and one-byte secrets too.
  const std::string large(100000, 'z');
  EXPECT_EQ(key_->Decrypt(CliEncrypt(large), kLaunchId).value_or(""), large);
  EXPECT_EQ(key_->Decrypt(CliEncrypt("k"), kLaunchId).value_or(""), "k");
}

TEST_F(JweDecryptTest, RefusesEveryTamperedPart) {
  const std::string jwe = CliEncrypt("the PHI key");
  struct Case {
    const char* name;
    std::string jwe;
  };
  Json reordered_header = Header(jwe);
  // The same members, spelt differently: the additional data is the text.
  const std::string spaced = Base64UrlEncode(" " + Canonical(reordered_header));
  absl::StatusOr<LaunchKey> other = LaunchKey::Generate();
  ASSERT_TRUE(other.ok());
  Json other_epk = Header(jwe);
  other_epk["epk"]["x"] = other->public_key().x;
  other_epk["epk"]["y"] = other->public_key().y;
  const std::vector<Case> cases = {
      {"header text", WithPart(jwe, 0, spaced)},
      {"epk (another valid point)", WithHeader(jwe, other_epk)},
      {"iv", Flipped(jwe, 2)},
      {"ciphertext first byte", Flipped(jwe, 3)},
      {"ciphertext last byte", Flipped(jwe, 3, Base64UrlDecode(Part(jwe, 3))->size() - 1)},
      {"tag", Flipped(jwe, 4, 15)},
      {"ciphertext truncated", WithPart(jwe, 3, Base64UrlEncode(Base64UrlDecode(Part(jwe, 3))->substr(1)))},
  };
  for (const Case& c : cases) {
    absl::Status s = DecryptError(c.jwe);
    EXPECT_EQ(s.code(), absl::StatusCode::kUnauthenticated) << c.name << ": " << s;
    EXPECT_THAT(s.message(), HasSubstr("tag does not verify")) << c.name;
  }
  EXPECT_TRUE(key_->Decrypt(jwe, kLaunchId).ok()) << "the untampered JWE still opens";
}

TEST_F(JweDecryptTest, RefusesAnotherKeyAndAnotherLaunch) {
  const std::string jwe = CliEncrypt("the PHI key");
  absl::StatusOr<LaunchKey> other = LaunchKey::Generate();
  ASSERT_TRUE(other.ok());
  absl::StatusOr<std::string> pt = other->Decrypt(jwe, kLaunchId);
  EXPECT_EQ(pt.status().code(), absl::StatusCode::kUnauthenticated);
  // A JWE for another launch (its kid), to this very key.
  absl::Status s = DecryptError(jwe, kOtherLaunch);
  EXPECT_EQ(s.code(), absl::StatusCode::kUnauthenticated);
  EXPECT_THAT(s.message(), HasSubstr("is for launch \"00112233445566778899aabbccddeeff\""));
  EXPECT_EQ(DecryptError(CliEncrypt("k", "ECDH-ES", "A256GCM", kOtherLaunch)).code(),
            absl::StatusCode::kUnauthenticated);
}

TEST_F(JweDecryptTest, RefusesOtherAlgorithmsAndEncryptions) {
  // Real JWEs of other algorithms, from the CLI.
  for (const char* alg : {"ECDH-ES+A128KW", "ECDH-ES+A256KW"}) {
    EXPECT_THAT(DecryptError(CliEncrypt("k", alg)).message(),
                HasSubstr(absl::StrCat("alg is \"", alg, "\"; only ECDH-ES is accepted")));
  }
  for (const char* enc : {"A128GCM", "A256CBC-HS512"}) {
    EXPECT_THAT(DecryptError(CliEncrypt("k", "ECDH-ES", enc)).message(),
                HasSubstr("enc must be \"A256GCM\""))
        << enc;
  }
  const std::string jwe = CliEncrypt("k");
  for (const char* alg : {"none", "dir", "RSA-OAEP", "HS256"}) {
    Json h = Header(jwe);
    h["alg"] = alg;
    EXPECT_THAT(DecryptError(WithHeader(jwe, h)).message(), HasSubstr("only ECDH-ES")) << alg;
  }
  Json no_alg = Header(jwe);
  no_alg.erase("alg");
  EXPECT_THAT(DecryptError(WithHeader(jwe, no_alg)).message(), HasSubstr("no \"alg\""));
}

TEST_F(JweDecryptTest, RefusesHeaderMembersItDoesNotUse) {
  const std::string jwe = CliEncrypt("k");
  for (const char* member : {"apu", "apv"}) {
    Json h = Header(jwe);
    h[member] = Base64UrlEncode("party");
    EXPECT_THAT(DecryptError(WithHeader(jwe, h)).message(),
                HasSubstr(absl::StrCat("\"", member, "\" is not accepted")));
  }
  for (const char* member : {"zip", "crit", "jku", "jwk", "x5u", "typ"}) {
    Json h = Header(jwe);
    h[member] = "x";
    EXPECT_THAT(DecryptError(WithHeader(jwe, h)).message(),
                HasSubstr(absl::StrCat("member \"", member, "\" is not accepted")));
  }
  Json private_epk = Header(jwe);
  private_epk["epk"]["d"] = Base64UrlEncode(std::string(32, 'd'));
  EXPECT_THAT(DecryptError(WithHeader(jwe, private_epk)).message(),
              HasSubstr("epk member \"d\" is not accepted"));
  Json off_curve = Header(jwe);
  off_curve["epk"]["y"] = Base64UrlEncode(std::string(32, '\x01'));
  EXPECT_THAT(DecryptError(WithHeader(jwe, off_curve)).message(), HasSubstr("not on P-256"));
  Json other_curve = Header(jwe);
  other_curve["epk"]["crv"] = "P-384";
  EXPECT_THAT(DecryptError(WithHeader(jwe, other_curve)).message(), HasSubstr("EC P-256"));
  Json no_kid = Header(jwe);
  no_kid.erase("kid");
  EXPECT_THAT(DecryptError(WithHeader(jwe, no_kid)).message(), HasSubstr("no \"kid\""));
}

TEST_F(JweDecryptTest, RefusesMalformedSerialisations) {
  const std::string jwe = CliEncrypt("k");
  const std::vector<std::pair<std::string, std::string>> cases = {
      {jwe + ".", "5 dot-separated parts, this has 6"},
      {jwe.substr(0, jwe.rfind('.')), "this has 4"},
      {jwe + "\n", "tag is not base64url"},
      {WithPart(jwe, 1, Base64UrlEncode(std::string(32, 'k'))), "encrypted key must be empty"},
      {WithPart(jwe, 2, Base64UrlEncode(std::string(16, 'i'))), "IV is 16 bytes"},
      {WithPart(jwe, 4, Base64UrlEncode(std::string(12, 't'))), "tag is 12 bytes"},
      {WithPart(jwe, 3, Part(jwe, 3) + "="), "ciphertext is not base64url"},
      {WithPart(jwe, 0, ""), "protected header is empty"},
      {WithPart(jwe, 0, Base64UrlEncode("[1]")), "not an object"},
      {WithPart(jwe, 0, Base64UrlEncode(R"({"alg":"ECDH-ES","alg":"ECDH-ES"})")), "duplicate"},
      {std::string(kMaxJweBytes + 1, 'a'), "larger than"},
  };
  for (const auto& [bad, expected] : cases) {
    absl::Status s = DecryptError(bad);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << expected << ": " << s;
    EXPECT_THAT(s.message(), HasSubstr(expected));
  }
}

}  // namespace
}  // namespace fdattest
