#include "verifier/identity_cache.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "verifier/tpm_identity.h"

namespace fdattest {

absl::StatusOr<std::shared_ptr<const AkPublic>> IdentityCache::Ak(absl::string_view ak) {
  const std::string key(ak);  // a TPM2B_PUBLIC: ~100 bytes, cheaper to compare than to hash
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = aks_.find(key);
    if (it != aks_.end()) return it->second;
  }
  ASSIGN_OR_RETURN(AkPublic parsed, ParseAkPublic(ak));
  auto shared = std::make_shared<const AkPublic>(std::move(parsed));
  std::lock_guard<std::mutex> lock(mu_);
  if (aks_.size() >= max_entries_) aks_.erase(aks_.begin());
  aks_.emplace(key, shared);
  return shared;
}

absl::StatusOr<std::string> IdentityCache::EkBoundQualifiedName(absl::string_view ek_der,
                                                                absl::string_view ak,
                                                                absl::string_view ca_pem,
                                                                int64_t now) {
  // The inputs themselves (length-prefixed, a few KiB): comparing them costs
  // less than hashing them.
  const std::string key =
      absl::StrCat(ca_pem.size(), ":", ca_pem, ek_der.size(), ":", ek_der, ak);
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = bindings_.find(key);
    if (it != bindings_.end()) {
      if (now < it->second.not_before || now > it->second.not_after) {
        return absl::UnauthenticatedError(
            "EK certificate does not chain to a trusted TPM CA: certificate is not valid now");
      }
      return it->second.qualified_name;
    }
  }
  ASSIGN_OR_RETURN(CertifiedEk ek, CheckEkCertificate(ek_der, ca_pem, now));
  ASSIGN_OR_RETURN(std::string qn, AkQualifiedName(ek.ek_public, ak));
  std::lock_guard<std::mutex> lock(mu_);
  if (bindings_.size() >= max_entries_) bindings_.erase(bindings_.begin());
  bindings_[key] = {qn, ek.not_before, ek.not_after};
  return qn;
}

}  // namespace fdattest
