// The signed endpoint registry (docs/policy.md "Endpoint registry payload"):
// which network endpoints lie in which country, as a registry signer vouches,
// so that R5 never guesses a region from an IP address. Parsed from the
// payload after the caller has verified its JWS with the key the policy
// names; an immutable value once parsed; thread-safe.
#ifndef FDATTEST_VERIFIER_ENDPOINT_REGISTRY_H_
#define FDATTEST_VERIFIER_ENDPOINT_REGISTRY_H_

#include <cstddef>
#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "common/status.h"
#include "verifier/ip_prefix.h"

namespace fdattest {

// The largest registry payload (and, twice this, its JWS) the verifier reads.
inline constexpr size_t kMaxRegistryBytes = 1 << 20;

struct RegistryEndpoint {
  IpPrefix prefix;
  std::set<uint16_t> ports;
  std::string region;  // ISO 3166-1 alpha-2 country code
  std::string name;
};

// A signed endpoint registry's payload, after the caller verified its JWS
// with the key the policy names. Strict JSON:
// {"version":1,"issuer":"...","endpoints":[{"cidr":"10.1.0.0/16","ports":[443],
//  "region":"DE","name":"..."}]}. Regions are country codes only; groups
// ("EEA") are a policy-side convenience.
struct EndpointRegistry {
  int version = 1;
  std::string issuer;
  std::vector<RegistryEndpoint> endpoints;

  // Every entry whose prefix and ports cover `peer` (empty when none).
  std::vector<const RegistryEndpoint*> Lookup(const IpEndpoint& peer) const;

  static absl::StatusOr<EndpointRegistry> Parse(absl::string_view payload);
};

}  // namespace fdattest

#endif  // FDATTEST_VERIFIER_ENDPOINT_REGISTRY_H_
