#include "verifier/ip_prefix.h"

#include <arpa/inet.h>

#include <algorithm>
#include <iterator>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace fdattest {
namespace {
constexpr uint8_t kV4Mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
}  // namespace

std::optional<IpEndpoint> IpEndpoint::Parse(absl::string_view text) {
  IpEndpoint e;
  absl::string_view host, port;
  if (!text.empty() && text.front() == '[') {
    size_t close = text.find("]:");
    if (close == absl::string_view::npos) return std::nullopt;
    host = text.substr(1, close - 1);
    port = text.substr(close + 2);
    e.v6 = true;
  } else {
    size_t colon = text.rfind(':');
    if (colon == absl::string_view::npos) return std::nullopt;
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
  }
  uint32_t port_num = 0;
  if (port.empty() || port.size() > 5 ||
      !std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; }) ||
      !absl::SimpleAtoi(port, &port_num) || port_num > 65535 || host.size() > 45) {
    return std::nullopt;
  }
  e.port = static_cast<uint16_t>(port_num);
  const std::string host_str(host);
  if (e.v6) {
    if (inet_pton(AF_INET6, host_str.c_str(), e.addr.data()) != 1) return std::nullopt;
    if (std::equal(std::begin(kV4Mapped), std::end(kV4Mapped), e.addr.begin())) {
      std::array<uint8_t, 16> v4{};
      std::copy(e.addr.begin() + 12, e.addr.end(), v4.begin());
      e.addr = v4;
      e.v6 = false;
    }
  } else if (inet_pton(AF_INET, host_str.c_str(), e.addr.data()) != 1) {
    return std::nullopt;
  }
  return e;
}

absl::StatusOr<IpPrefix> IpPrefix::Parse(absl::string_view text) {
  IpPrefix p;
  p.text = std::string(text);
  size_t slash = text.find('/');
  if (slash == absl::string_view::npos || text.size() > 64) {
    return absl::InvalidArgumentError(
        absl::StrCat("\"", p.text, "\" is not a CIDR prefix (\"10.1.0.0/16\", \"2001:db8::/32\")"));
  }
  const std::string host(text.substr(0, slash));
  absl::string_view len = text.substr(slash + 1);
  p.v6 = host.find(':') != std::string::npos;
  const int max_len = p.v6 ? 128 : 32;
  if (inet_pton(p.v6 ? AF_INET6 : AF_INET, host.c_str(), p.addr.data()) != 1 || len.empty() ||
      len.size() > 3 ||
      !std::all_of(len.begin(), len.end(), [](char c) { return c >= '0' && c <= '9'; }) ||
      !absl::SimpleAtoi(len, &p.length) || p.length > max_len) {
    return absl::InvalidArgumentError(absl::StrCat("\"", p.text, "\" is not a valid CIDR prefix"));
  }
  for (int bit = p.length; bit < max_len; ++bit) {
    if (p.addr[bit / 8] & (0x80 >> (bit % 8))) {
      return absl::InvalidArgumentError(
          absl::StrCat("\"", p.text, "\" has host bits set beyond /", p.length));
    }
  }
  // Peers in ::ffff:0:0/96 are compared as IPv4 (IpEndpoint::Parse), so a
  // prefix inside it is too; a shorter one stays IPv6 and covers no peer there.
  if (p.v6 && p.length >= 96 &&
      std::equal(std::begin(kV4Mapped), std::end(kV4Mapped), p.addr.begin())) {
    std::array<uint8_t, 16> v4{};
    std::copy(p.addr.begin() + 12, p.addr.end(), v4.begin());
    p.addr = v4;
    p.length -= 96;
    p.v6 = false;
  }
  return p;
}

bool IpPrefix::Contains(const IpEndpoint& e) const {
  if (e.v6 != v6) return false;
  for (int bit = 0; bit < length; ++bit) {
    const uint8_t mask = 0x80 >> (bit % 8);
    if ((addr[bit / 8] & mask) != (e.addr[bit / 8] & mask)) return false;
  }
  return true;
}

}  // namespace fdattest
