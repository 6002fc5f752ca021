// Secret release across the two sides: what the verifier encrypts with
// libjose (verifier/secret_release.h) to the release key a manifest records,
// the launcher opens with OpenSSL alone (launcher/jwe_decrypt.h) -- and
// nothing else does: another launch's key or id, or any altered byte.
#include <string>
#include <vector>

#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/base64.h"
#include "gtest/gtest.h"
#include "launcher/jwe_decrypt.h"
#include "verifier/secret_release.h"

namespace fdattest {
namespace {

constexpr char kLaunchId[] = "0123456789abcdef0123456789abcdef";

TEST(JweInteropTest, TheLauncherOpensWhatTheVerifierEncryptsToItsManifestKey) {
  absl::StatusOr<LaunchKey> key = LaunchKey::Generate();
  ASSERT_TRUE(key.ok()) << key.status();
  // The key as it travels: the manifest's canonical bytes, parsed strictly.
  Manifest m;
  m.release_key = key->public_key();
  const Json jwk = m.ToJson()["release_key"];
  for (const std::string& secret :
       {std::string("k"), std::string("PHI key \0 with \xff bytes", 22), std::string(65536, 's')}) {
    absl::StatusOr<std::string> jwe = EncryptSecretForLaunch(jwk, secret, kLaunchId);
    ASSERT_TRUE(jwe.ok()) << jwe.status();
    absl::StatusOr<std::string> opened = key->Decrypt(*jwe, kLaunchId);
    ASSERT_TRUE(opened.ok()) << opened.status();
    EXPECT_EQ(*opened, secret);
  }
}

TEST(JweInteropTest, NothingButThisLaunchsKeyAndIdOpensIt) {
  absl::StatusOr<LaunchKey> key = LaunchKey::Generate();
  absl::StatusOr<LaunchKey> other = LaunchKey::Generate();
  ASSERT_TRUE(key.ok() && other.ok());
  absl::StatusOr<std::string> jwe =
      EncryptSecretForLaunch(key->public_key().ToJwk(), "the PHI key", kLaunchId);
  ASSERT_TRUE(jwe.ok()) << jwe.status();
  EXPECT_EQ(other->Decrypt(*jwe, kLaunchId).status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(key->Decrypt(*jwe, "fedcba9876543210fedcba9876543210").status().code(),
            absl::StatusCode::kUnauthenticated);
  // One flipped bit in each of the IV, ciphertext and tag.
  for (size_t part : {2u, 3u, 4u}) {
    std::vector<std::string> parts = absl::StrSplit(*jwe, '.');
    std::string raw = Base64UrlDecode(parts[part]).value();
    raw[0] = static_cast<char>(raw[0] ^ 0x80);
    parts[part] = Base64UrlEncode(raw);
    EXPECT_EQ(key->Decrypt(absl::StrJoin(parts, "."), kLaunchId).status().code(),
              absl::StatusCode::kUnauthenticated)
        << "part " << part;
  }
  EXPECT_EQ(key->Decrypt(*jwe, kLaunchId).value_or(""), "the PHI key");
}

}  // namespace
}  // namespace fdattest
