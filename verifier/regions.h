// Transfer regions for R5: the officially assigned ISO 3166-1 alpha-2
// country codes an endpoint registry may place an endpoint in, and the
// policy-side groups "EU" and "EEA" that expand to their member countries.
// Constant tables; thread-safe.
#ifndef FDATTEST_VERIFIER_REGIONS_H_
#define FDATTEST_VERIFIER_REGIONS_H_

#include <optional>
#include <set>
#include <string>

#include "absl/strings/string_view.h"

namespace fdattest {

// Whether `code` is one of the 249 officially assigned ISO 3166-1 alpha-2
// codes (Debian's iso-codes 4.15): "DE" is, the reserved "EL" and "UK", the
// group "EU" and typos are not.
bool IsCountryCode(absl::string_view code);

// The countries a policy-side region name stands for: a country code stands
// for itself, "EU" for the 27 member states (Greece as GR), "EEA" for those
// and IS, LI, NO. nullopt for anything else.
std::optional<std::set<std::string>> CountriesOfRegion(absl::string_view region);

}  // namespace fdattest

#endif  // FDATTEST_VERIFIER_REGIONS_H_
