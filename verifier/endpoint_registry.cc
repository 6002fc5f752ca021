#include "verifier/endpoint_registry.h"

#include "absl/strings/str_cat.h"
#include "common/json.h"
#include "verifier/internal/policy_json.h"
#include "verifier/regions.h"

namespace fdattest {
namespace {

using policy_internal::CheckName;
using policy_internal::Invalid;
using policy_internal::PortSet;

// Bounded so that a hostile registry cannot make evaluation expensive.
constexpr size_t kMaxRegistryEndpoints = 4096;

}  // namespace

std::vector<const RegistryEndpoint*> EndpointRegistry::Lookup(const IpEndpoint& peer) const {
  std::vector<const RegistryEndpoint*> out;
  for (const RegistryEndpoint& e : endpoints) {
    if (e.prefix.Contains(peer) && e.ports.contains(peer.port)) out.push_back(&e);
  }
  return out;
}

absl::StatusOr<EndpointRegistry> EndpointRegistry::Parse(absl::string_view payload) {
  ASSIGN_OR_RETURN(Json doc,
                   ParseJsonStrict(payload, {.max_bytes = kMaxRegistryBytes, .max_depth = 6}));
  JsonFields f(doc, "registry");
  std::optional<int64_t> version = f.Int("version", true, 1, 1);
  std::optional<std::string> issuer = f.String("issuer", true);
  const Json* endpoints = f.Array("endpoints", true);
  RETURN_IF_ERROR(f.Finish());
  EndpointRegistry r;
  r.version = static_cast<int>(*version);
  r.issuer = *issuer;
  if (std::string p = CheckName(r.issuer, 256); !p.empty()) return Invalid("registry.issuer", p);
  if (endpoints->size() > kMaxRegistryEndpoints) {
    return Invalid("registry.endpoints",
                   absl::StrCat("at most ", kMaxRegistryEndpoints, " entries"));
  }
  for (size_t i = 0; i < endpoints->size(); ++i) {
    const std::string where = absl::StrCat("registry.endpoints[", i, "]");
    JsonFields ef((*endpoints)[i], where);
    std::optional<std::string> cidr = ef.String("cidr", true);
    const Json* ports = ef.Array("ports", true);
    std::optional<std::string> region = ef.String("region", true);
    std::optional<std::string> name = ef.String("name", false);
    RETURN_IF_ERROR(ef.Finish());
    RegistryEndpoint e;
    auto prefix = IpPrefix::Parse(*cidr);
    if (!prefix.ok()) return Invalid(where + ".cidr", prefix.status().message());
    e.prefix = *prefix;
    ASSIGN_OR_RETURN(e.ports, PortSet(ports, where + ".ports"));
    if (!IsCountryCode(*region)) {
      return Invalid(where + ".region",
                     "must be an ISO 3166-1 alpha-2 country code (\"DE\"); groups such as "
                     "\"EU\" belong in the policy");
    }
    e.region = *region;
    e.name = name.value_or("");
    if (name.has_value()) {
      if (std::string p = CheckName(e.name, 128); !p.empty()) return Invalid(where + ".name", p);
    }
    r.endpoints.push_back(std::move(e));
  }
  return r;
}

}  // namespace fdattest
