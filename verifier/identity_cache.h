// What a verifier proves about an attester's identity, remembered across
// verifications (the identity and ek steps of verifier/verify.h): the
// enrolled AK parsed and checked (its point on the curve costs more than a
// signature check), and the AK's binding to a certified EK (the chain
// verified, the qualified name recomputed) by (CA set, EK certificate, AK).
// A remembered binding is used only within the validity period of its
// certificate chain, checked on every call. Bounded; thread-safe (one mutex;
// the work is done outside it).
#ifndef FDATTEST_VERIFIER_IDENTITY_CACHE_H_
#define FDATTEST_VERIFIER_IDENTITY_CACHE_H_

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "absl/strings/string_view.h"
#include "common/status.h"
#include "verifier/tpm_attest.h"

namespace fdattest {

class IdentityCache {
 public:
  explicit IdentityCache(size_t max_entries = 4096) : max_entries_(max_entries) {}
  IdentityCache(const IdentityCache&) = delete;
  IdentityCache& operator=(const IdentityCache&) = delete;

  // The AK of `ak_tpm2b_public`, parsed and checked as ParseAkPublic does
  // (failures are not remembered).
  absl::StatusOr<std::shared_ptr<const AkPublic>> Ak(absl::string_view ak_tpm2b_public);
  // The AK's qualified name under the EK that `ek_der` certifies, after the
  // certificate was found to chain to `ca_pem` (errors as CheckEkCertificate
  // and AkQualifiedName give them; failures are not remembered). A
  // remembered binding holds only while every certificate of its chain is
  // valid at `now` (unix seconds).
  absl::StatusOr<std::string> EkBoundQualifiedName(absl::string_view ek_der,
                                                   absl::string_view ak_tpm2b_public,
                                                   absl::string_view ca_pem, int64_t now);

 private:
  struct Binding {
    std::string qualified_name;
    int64_t not_before = 0, not_after = 0;
  };
  std::mutex mu_;
  std::map<std::string, std::shared_ptr<const AkPublic>> aks_;
  std::map<std::string, Binding> bindings_;
  size_t max_entries_;
};

}  // namespace fdattest

#endif  // FDATTEST_VERIFIER_IDENTITY_CACHE_H_
