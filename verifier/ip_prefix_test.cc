// Peer endpoints and CIDR prefixes: IPv4-mapped IPv6 compared as IPv4, junk
// refused.
#include "verifier/ip_prefix.h"

#include <optional>
#include <string>

#include "gtest/gtest.h"

namespace fdattest {
namespace {

TEST(IpEndpoint, NormalisesV4MappedV6AndRejectsJunk) {
  std::optional<IpEndpoint> mapped = IpEndpoint::Parse("[::ffff:10.20.1.2]:443");
  ASSERT_TRUE(mapped.has_value());
  EXPECT_FALSE(mapped->v6);
  absl::StatusOr<IpPrefix> p = IpPrefix::Parse("10.20.0.0/16");
  ASSERT_TRUE(p.ok());
  EXPECT_TRUE(p->Contains(*mapped));
  EXPECT_FALSE(p->Contains(*IpEndpoint::Parse("10.21.0.1:443")));
  absl::StatusOr<IpPrefix> mapped_prefix = IpPrefix::Parse("::ffff:10.20.0.0/112");
  ASSERT_TRUE(mapped_prefix.ok());
  EXPECT_TRUE(mapped_prefix->Contains(*IpEndpoint::Parse("10.20.9.9:443")));
  EXPECT_TRUE(mapped_prefix->Contains(*mapped));
  for (const char* junk : {"not connected", "unnamed", "10.0.0.1", "10.0.0.1:99999", "[::1]",
                           "::1:443", "10.0.0.1:-1", "[10.0.0.1]:443"}) {
    EXPECT_FALSE(IpEndpoint::Parse(junk).has_value()) << junk;
  }
}

TEST(IpPrefix, RefusesHostBitsAndLengthsBeyondTheFamily) {
  for (const char* bad : {"10.1.0.1/16", "10.0.0.0/33", "2001:db8::1/32", "2001:db8::/129",
                          "10.0.0.0", "10.0.0.0/", "10.0.0.0/+8", "10.0.0.0/ 8", "host/8"}) {
    EXPECT_FALSE(IpPrefix::Parse(bad).ok()) << bad;
  }
  absl::StatusOr<IpPrefix> all = IpPrefix::Parse("0.0.0.0/0");
  ASSERT_TRUE(all.ok());
  EXPECT_TRUE(all->Contains(*IpEndpoint::Parse("203.0.113.9:1")));
  EXPECT_FALSE(all->Contains(*IpEndpoint::Parse("[2001:db8::1]:1")));  // families never mix
}

TEST(IpPrefix, ContainsComparesOnlyTheLeadingBits) {
  absl::StatusOr<IpPrefix> p = IpPrefix::Parse("192.0.2.128/25");
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->text, "192.0.2.128/25");
  EXPECT_TRUE(p->Contains(*IpEndpoint::Parse("192.0.2.200:443")));
  EXPECT_FALSE(p->Contains(*IpEndpoint::Parse("192.0.2.127:443")));
  absl::StatusOr<IpPrefix> v6 = IpPrefix::Parse("2001:db8:ee::/48");
  ASSERT_TRUE(v6.ok());
  EXPECT_TRUE(v6->Contains(*IpEndpoint::Parse("[2001:db8:ee:1::10]:443")));
  EXPECT_FALSE(v6->Contains(*IpEndpoint::Parse("[2001:db8:ef::10]:443")));
}

}  // namespace
}  // namespace fdattest
