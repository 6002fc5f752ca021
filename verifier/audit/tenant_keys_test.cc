// Tenant data keys and sealed blobs: a blob opens only under its own
// tenant's key and at its own address (tenant, kind, sha256); every changed
// byte, another tenant, kind, address or key fails; a tenant key opens only
// for its own tenant.
#include "verifier/audit/tenant_keys.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "absl/strings/str_cat.h"
#include "common/sha256.h"

namespace fdattest {
namespace {

class TenantKeysTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/fdattest-tenant-keys-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    service_key_ = NewBox("service.key");
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::optional<SecretBox> NewBox(const std::string& name) {
    const std::string path = absl::StrCat(dir_, "/", name);
    EXPECT_TRUE(SecretBox::CreateKeyFile(path).ok());
    absl::StatusOr<SecretBox> box = SecretBox::Open(path);
    EXPECT_TRUE(box.ok()) << box.status();
    if (!box.ok()) return std::nullopt;
    return *box;
  }
  SecretBox TenantKey(absl::string_view tenant) {
    absl::StatusOr<std::string> sealed = NewSealedTenantKey(*service_key_, tenant);
    EXPECT_TRUE(sealed.ok()) << sealed.status();
    absl::StatusOr<SecretBox> key = OpenTenantKey(*service_key_, tenant, *sealed);
    EXPECT_TRUE(key.ok()) << key.status();
    return *key;
  }

  std::string dir_;
  std::optional<SecretBox> service_key_;
};

const std::string kEvidence = "{\"evidence\":\"bundle bytes\"}";

TEST_F(TenantKeysTest, SealedBlobOpensAtItsAddress) {
  SecretBox key = TenantKey("acme");
  const std::string address = BlobAddress(kEvidence);
  EXPECT_EQ(address, HexEncode(Sha256(kEvidence)));
  absl::StatusOr<std::string> sealed =
      SealBlob(key, "acme", BlobKind::kEvidence, address, kEvidence);
  ASSERT_TRUE(sealed.ok()) << sealed.status();
  EXPECT_EQ(sealed->find("bundle bytes"), std::string::npos);
  EXPECT_EQ(*OpenBlob(key, "acme", BlobKind::kEvidence, address, *sealed), kEvidence);
  // Sealing twice gives another ciphertext of the same content.
  EXPECT_NE(*SealBlob(key, "acme", BlobKind::kEvidence, address, kEvidence), *sealed);
  EXPECT_EQ(OpenBlob(key, "acme", BlobKind::kEvidence, address, "").status().code(),
            absl::StatusCode::kDataLoss);
}

TEST_F(TenantKeysTest, BlobMovedToAnotherAddressOrKeyDoesNotOpen) {
  SecretBox key = TenantKey("acme");
  SecretBox other_key = TenantKey("other");
  const std::string address = BlobAddress(kEvidence);
  const std::string sealed = *SealBlob(key, "acme", BlobKind::kEvidence, address, kEvidence);
  auto fails = [](const absl::StatusOr<std::string>& opened) {
    return !opened.ok() && opened.status().code() == absl::StatusCode::kDataLoss;
  };
  EXPECT_TRUE(fails(OpenBlob(key, "other", BlobKind::kEvidence, address, sealed)));
  EXPECT_TRUE(fails(OpenBlob(key, "acme", BlobKind::kResult, address, sealed)));
  EXPECT_TRUE(fails(OpenBlob(key, "acme", BlobKind::kDecision, address, sealed)));
  EXPECT_TRUE(fails(OpenBlob(key, "acme", BlobKind::kEvidence, BlobAddress("another"), sealed)));
  EXPECT_TRUE(fails(OpenBlob(other_key, "acme", BlobKind::kEvidence, address, sealed)));
  EXPECT_TRUE(fails(OpenBlob(*service_key_, "acme", BlobKind::kEvidence, address, sealed)));
}

TEST_F(TenantKeysTest, EveryFlippedByteOfASealedBlobFails) {
  SecretBox key = TenantKey("acme");
  const std::string address = BlobAddress(kEvidence);
  const std::string sealed = *SealBlob(key, "acme", BlobKind::kEvidence, address, kEvidence);
  for (size_t i = 0; i < sealed.size(); ++i) {
    for (uint8_t bit : {0x01, 0x80}) {
      std::string damaged = sealed;
      damaged[i] = static_cast<char>(damaged[i] ^ bit);
      EXPECT_FALSE(OpenBlob(key, "acme", BlobKind::kEvidence, address, damaged).ok())
          << "byte " << i;
    }
  }
  EXPECT_FALSE(
      OpenBlob(key, "acme", BlobKind::kEvidence, address, sealed.substr(0, sealed.size() - 1))
          .ok());
  EXPECT_FALSE(OpenBlob(key, "acme", BlobKind::kEvidence, address, sealed + "x").ok());
}

TEST_F(TenantKeysTest, SealingRefusesAWrongAddressOrTenant) {
  SecretBox key = TenantKey("acme");
  EXPECT_EQ(
      SealBlob(key, "acme", BlobKind::kEvidence, BlobAddress("other"), kEvidence).status().code(),
      absl::StatusCode::kInvalidArgument);
  std::string upper = BlobAddress(kEvidence);
  for (char& c : upper) c = static_cast<char>(toupper(c));
  EXPECT_EQ(SealBlob(key, "acme", BlobKind::kEvidence, upper, kEvidence).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(
      SealBlob(key, "a/b", BlobKind::kEvidence, BlobAddress(kEvidence), kEvidence).status().code(),
      absl::StatusCode::kInvalidArgument);
}

TEST_F(TenantKeysTest, TenantKeyOpensOnlyForItsTenantUnderTheServiceKey) {
  const std::string sealed = *NewSealedTenantKey(*service_key_, "acme");
  EXPECT_EQ(sealed.size(), 1 + 12 + 32 + 16u);                    // SecretBox over 32 key bytes
  EXPECT_NE(sealed, *NewSealedTenantKey(*service_key_, "acme"));  // fresh each time
  EXPECT_TRUE(OpenTenantKey(*service_key_, "acme", sealed).ok());
  EXPECT_EQ(OpenTenantKey(*service_key_, "other", sealed).status().code(),
            absl::StatusCode::kDataLoss);
  std::optional<SecretBox> another_service = NewBox("another.key");
  EXPECT_EQ(OpenTenantKey(*another_service, "acme", sealed).status().code(),
            absl::StatusCode::kDataLoss);
  // Shredded: the stored key is gone.
  EXPECT_EQ(OpenTenantKey(*service_key_, "acme", "").status().code(),
            absl::StatusCode::kFailedPrecondition);
  // A blob sealed under a key opened twice from the same sealed key opens.
  SecretBox once = *OpenTenantKey(*service_key_, "acme", sealed);
  SecretBox twice = *OpenTenantKey(*service_key_, "acme", sealed);
  const std::string address = BlobAddress(kEvidence);
  EXPECT_EQ(*OpenBlob(twice, "acme", BlobKind::kResult, address,
                      *SealBlob(once, "acme", BlobKind::kResult, address, kEvidence)),
            kEvidence);
  EXPECT_EQ(TenantKeyName("acme"), "tenant:acme");
}

TEST_F(TenantKeysTest, KeyFromRawBytesNeedsExactly32) {
  EXPECT_TRUE(SecretBox::FromKeyBytes(std::string(32, 'k')).ok());
  EXPECT_EQ(SecretBox::FromKeyBytes(std::string(31, 'k')).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(SecretBox::FromKeyBytes(std::string(33, 'k')).status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace fdattest
