// Transfer regions: only assigned ISO 3166-1 alpha-2 codes are countries, and
// the policy-side groups expand to their members.
#include "verifier/regions.h"

#include <optional>
#include <set>
#include <string>

#include "gtest/gtest.h"

namespace fdattest {
namespace {

TEST(Regions, AcceptsAssignedCountryCodesOnly) {
  for (const char* code : {"AD", "DE", "GR", "IE", "NO", "US", "ZW"}) {
    EXPECT_TRUE(IsCountryCode(code)) << code;
  }
  // Reserved (EL, UK, EU), unassigned (XX), lowercase, wrong length.
  for (const char* code : {"EL", "UK", "EU", "EEA", "XX", "de", "D", "DEU", ""}) {
    EXPECT_FALSE(IsCountryCode(code)) << code;
  }
}

TEST(Regions, ExpandsEuAndEeaAndKeepsACountryAsItself) {
  std::optional<std::set<std::string>> eu = CountriesOfRegion("EU");
  ASSERT_TRUE(eu.has_value());
  EXPECT_EQ(eu->size(), 27u);
  EXPECT_TRUE(eu->contains("GR"));
  EXPECT_FALSE(eu->contains("NO"));
  for (const std::string& country : *eu) EXPECT_TRUE(IsCountryCode(country)) << country;

  std::optional<std::set<std::string>> eea = CountriesOfRegion("EEA");
  ASSERT_TRUE(eea.has_value());
  EXPECT_EQ(eea->size(), 30u);
  for (const char* extra : {"IS", "LI", "NO"}) EXPECT_TRUE(eea->contains(extra)) << extra;

  EXPECT_EQ(CountriesOfRegion("CH"), (std::set<std::string>{"CH"}));
  for (const char* bad : {"Germany", "EL", "eu", ""}) {
    EXPECT_FALSE(CountriesOfRegion(bad).has_value()) << bad;
  }
}

}  // namespace
}  // namespace fdattest
