// IP addresses as the policy and the endpoint registry compare them: a peer
// endpoint ("192.0.2.7:443", "[2001:db8::1]:443") and a CIDR prefix
// ("10.1.0.0/16", "2001:db8::/32"), used by the egress allow-list (R1, R4)
// and the registry lookup (R5). Immutable values from strict parsers;
// thread-safe.
#ifndef FDATTEST_VERIFIER_IP_PREFIX_H_
#define FDATTEST_VERIFIER_IP_PREFIX_H_

#include <array>
#include <cstdint>
#include <optional>
#include <string>

#include "absl/strings/string_view.h"
#include "common/status.h"

namespace fdattest {

// A peer address as the manifest records it: "192.0.2.7:443" or
// "[2001:db8::1]:443". IPv4-mapped IPv6 addresses are normalised to IPv4 so a
// v4 allow-list cannot be sidestepped through ::ffff:0:0/96.
struct IpEndpoint {
  bool v6 = false;
  std::array<uint8_t, 16> addr{};  // IPv4 in the first 4 bytes
  uint16_t port = 0;

  static std::optional<IpEndpoint> Parse(absl::string_view text);
};

// "10.1.0.0/16" or "2001:db8::/32"; host bits must be zero (a typo'd prefix
// is an error, not a silently wider range).
struct IpPrefix {
  bool v6 = false;
  std::array<uint8_t, 16> addr{};
  int length = 0;
  std::string text;

  static absl::StatusOr<IpPrefix> Parse(absl::string_view text);
  bool Contains(const IpEndpoint& endpoint) const;
};

}  // namespace fdattest

#endif  // FDATTEST_VERIFIER_IP_PREFIX_H_
