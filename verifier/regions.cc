#include "verifier/regions.h"

namespace fdattest {
namespace {

// EU member states (ISO 3166-1 alpha-2: Greece is GR, not the EU's "EL").
const std::set<std::string>& EuCountries() {
  static const std::set<std::string> s = {"AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI",
                                          "FR", "DE", "GR", "HU", "IE", "IT", "LV", "LT", "LU",
                                          "MT", "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE"};
  return s;
}

// Every officially assigned ISO 3166-1 alpha-2 code (249, from Debian's
// iso-codes 4.15), sorted and concatenated: a region must name a country,
// not a typo or a reserved code such as "EU".
constexpr absl::string_view kIso3166Alpha2 =
    "ADAEAFAGAIALAMAOAQARASATAUAWAXAZBABBBDBEBFBGBHBIBJBLBMBNBOBQBRBSBTBVBWBYBZCACCCD"
    "CFCGCHCICKCLCMCNCOCRCUCVCWCXCYCZDEDJDKDMDODZECEEEGEHERESETFIFJFKFMFOFRGAGBGDGEGF"
    "GGGHGIGLGMGNGPGQGRGSGTGUGWGYHKHMHNHRHTHUIDIEILIMINIOIQIRISITJEJMJOJPKEKGKHKIKMKN"
    "KPKRKWKYKZLALBLCLILKLRLSLTLULVLYMAMCMDMEMFMGMHMKMLMMMNMOMPMQMRMSMTMUMVMWMXMYMZNA"
    "NCNENFNGNINLNONPNRNUNZOMPAPEPFPGPHPKPLPMPNPRPSPTPWPYQARERORSRURWSASBSCSDSESGSHSI"
    "SJSKSLSMSNSOSRSSSTSVSXSYSZTCTDTFTGTHTJTKTLTMTNTOTRTTTVTWTZUAUGUMUSUYUZVAVCVEVGVI"
    "VNVUWFWSYEYTZAZMZW";

}  // namespace

bool IsCountryCode(absl::string_view s) {
  if (s.size() != 2) return false;
  size_t lo = 0, hi = kIso3166Alpha2.size() / 2;
  while (lo < hi) {
    const size_t mid = (lo + hi) / 2;
    const absl::string_view code = kIso3166Alpha2.substr(mid * 2, 2);
    if (code == s) return true;
    if (code < s) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  return false;
}

std::optional<std::set<std::string>> CountriesOfRegion(absl::string_view region) {
  if (region == "EU" || region == "EEA") {
    std::set<std::string> out = EuCountries();
    if (region == "EEA") out.insert({"IS", "LI", "NO"});
    return out;
  }
  if (IsCountryCode(region)) return std::set<std::string>{std::string(region)};
  return std::nullopt;
}

}  // namespace fdattest
