#include "verifier/audit/tenant_keys.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include <array>

#include "absl/strings/str_cat.h"
#include "common/sha256.h"

namespace fdattest {
namespace {

// The name SecretBox binds as associated data (after its version byte).
// Tenant ids, kind names and hex digits contain no newline, so the fields
// cannot run into each other.
absl::StatusOr<std::string> BlobName(absl::string_view tenant, BlobKind kind,
                                     absl::string_view sha256) {
  RETURN_IF_ERROR(CheckTenantId(tenant));
  if (sha256.size() != 64 || !IsLowerHex(sha256)) {
    return absl::InvalidArgumentError("a blob address must be 64 lowercase hex digits");
  }
  return absl::StrCat("fdattest-blob/v1\n", tenant, "\n", BlobKindName(kind), "\n", sha256);
}

}  // namespace

std::string TenantKeyName(absl::string_view tenant) { return absl::StrCat("tenant:", tenant); }

absl::StatusOr<std::string> NewSealedTenantKey(const SecretBox& service_key,
                                               absl::string_view tenant) {
  RETURN_IF_ERROR(CheckTenantId(tenant));
  std::array<uint8_t, SecretBox::kKeyBytes> key;
  if (RAND_bytes(key.data(), static_cast<int>(key.size())) != 1) {
    return OpenSslStatus("generating a tenant key");
  }
  absl::StatusOr<std::string> sealed =
      service_key.Seal(TenantKeyName(tenant),
                       absl::string_view(reinterpret_cast<const char*>(key.data()), key.size()));
  OPENSSL_cleanse(key.data(), key.size());
  return sealed;
}

absl::StatusOr<SecretBox> OpenTenantKey(const SecretBox& service_key, absl::string_view tenant,
                                        absl::string_view sealed_key) {
  RETURN_IF_ERROR(CheckTenantId(tenant));
  if (sealed_key.empty()) {
    return absl::FailedPreconditionError(absl::StrCat("tenant ", tenant, " was shredded"));
  }
  ASSIGN_OR_RETURN(std::string key, service_key.Open(TenantKeyName(tenant), sealed_key));
  absl::StatusOr<SecretBox> box = SecretBox::FromKeyBytes(key);
  OPENSSL_cleanse(key.data(), key.size());
  if (!box.ok()) return absl::DataLossError(absl::StrCat("tenant ", tenant, "'s key is damaged"));
  return box;
}

std::string BlobAddress(absl::string_view plaintext) { return HexEncode(Sha256(plaintext)); }

absl::StatusOr<std::string> SealBlob(const SecretBox& tenant_key, absl::string_view tenant,
                                     BlobKind kind, absl::string_view sha256,
                                     absl::string_view plaintext) {
  ASSIGN_OR_RETURN(std::string name, BlobName(tenant, kind, sha256));
  if (BlobAddress(plaintext) != sha256) {
    return absl::InvalidArgumentError("a blob's address must be the sha256 of its plaintext");
  }
  return tenant_key.Seal(name, plaintext);
}

absl::StatusOr<std::string> OpenBlob(const SecretBox& tenant_key, absl::string_view tenant,
                                     BlobKind kind, absl::string_view sha256,
                                     absl::string_view sealed) {
  ASSIGN_OR_RETURN(std::string name, BlobName(tenant, kind, sha256));
  ASSIGN_OR_RETURN(std::string plaintext, tenant_key.Open(name, sealed));
  if (BlobAddress(plaintext) != sha256) {
    OPENSSL_cleanse(plaintext.data(), plaintext.size());
    return absl::DataLossError("a blob's plaintext does not hash to its address");
  }
  return plaintext;
}

}  // namespace fdattest
