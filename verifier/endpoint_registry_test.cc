// The endpoint registry payload: strict parsing (country codes only, unknown
// keys, prefixes with host bits) and lookup by prefix and port.
#include "verifier/endpoint_registry.h"

#include <optional>
#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "verifier/ip_prefix.h"
#include "tests/support/policy_test_util.h"

namespace fdattest {
namespace {

using testing::EuRegistry;
using ::testing::HasSubstr;

TEST(EndpointRegistryParse, ParsesTheExampleAndLooksUpByPrefixAndPort) {
  EndpointRegistry r = EuRegistry();
  ASSERT_EQ(r.endpoints.size(), 3u);
  std::optional<IpEndpoint> fra = IpEndpoint::Parse("10.20.4.7:443");
  ASSERT_TRUE(fra.has_value());
  ASSERT_EQ(r.Lookup(*fra).size(), 1u);
  EXPECT_EQ(r.Lookup(*fra)[0]->region, "DE");
  std::optional<IpEndpoint> other_port = IpEndpoint::Parse("10.20.4.7:80");
  EXPECT_TRUE(r.Lookup(*other_port).empty());
  std::optional<IpEndpoint> dub = IpEndpoint::Parse("[2001:db8:ee::10]:443");
  ASSERT_TRUE(dub.has_value());
  ASSERT_EQ(r.Lookup(*dub).size(), 1u);
  EXPECT_EQ(r.Lookup(*dub)[0]->region, "IE");
}

TEST(EndpointRegistryParse, RefusesGroupsUnknownKeysAndBadPrefixes) {
  auto refused = [](const std::string& text, const std::string& part) {
    absl::StatusOr<EndpointRegistry> r = EndpointRegistry::Parse(text);
    ASSERT_FALSE(r.ok()) << text;
    EXPECT_THAT(std::string(r.status().message()), HasSubstr(part));
  };
  refused(
      R"({"version":1,"issuer":"i","endpoints":[{"cidr":"10.0.0.0/8","ports":[443],"region":"EU"}]})",
      "registry.endpoints[0].region");
  refused(
      R"({"version":1,"issuer":"i","endpoints":[{"cidr":"10.0.0.0/8","ports":[443],"region":"DE","x":1}]})",
      "registry.endpoints[0]: unknown key \"x\"");
  refused(
      R"({"version":1,"issuer":"i","endpoints":[{"cidr":"10.0.0.1/8","ports":[443],"region":"DE"}]})",
      "host bits");
  refused(
      R"({"version":1,"issuer":"i","endpoints":[{"cidr":"10.0.0.0/8","ports":[],"region":"DE"}]})",
      "registry.endpoints[0].ports: must not be empty");
  refused(R"({"version":2,"issuer":"i","endpoints":[]})", "\"version\"");
  // Shaped like a country code, but not one (Greece is GR; XX is unassigned).
  for (const char* code : {"EL", "XX", "UK"}) {
    refused(
        absl::StrCat(
            R"({"version":1,"issuer":"i","endpoints":[{"cidr":"10.0.0.0/8","ports":[443],"region":")",
            code, R"("}]})"),
        "alpha-2 country code");
  }
}

}  // namespace
}  // namespace fdattest
