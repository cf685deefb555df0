#include <cctype>
#include <charconv>

#include "core/hex.hpp"
#include "core/ipv4.hpp"
#include "core/mac_address.hpp"
#include "fmt/format.h"

namespace ramfleet {

std::optional<MacAddress> MacAddress::parse(std::string_view text) {
  std::array<std::uint8_t, 6> o{};
  std::size_t pos = 0;
  const bool separated = text.size() == 17;
  if (!separated && text.size() != 12) return std::nullopt;
  for (std::size_t i = 0; i < 6; ++i) {
    if (separated && i > 0) {
      char sep = text[pos++];
      if (sep != ':' && sep != '-') return std::nullopt;
    }
    int hi = hex_value(text[pos]), lo = hex_value(text[pos + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    o[i] = static_cast<std::uint8_t>(hi * 16 + lo);
    pos += 2;
  }
  return MacAddress{o};
}

std::string MacAddress::str() const {
  std::string out;
  out.reserve(3 * octets_.size() - 1);
  for (std::size_t i = 0; i < octets_.size(); ++i) {
    if (i > 0) out.push_back(':');
    append_hex(out, octets_[i]);
  }
  return out;
}

bool MacAddress::is_zero() const {
  for (auto b : octets_)
    if (b != 0) return false;
  return true;
}

std::optional<Ipv4> Ipv4::parse(std::string_view text) {
  std::uint32_t value = 0;
  const char* p = text.data();
  const char* end = text.data() + text.size();
  for (int i = 0; i < 4; ++i) {
    if (i > 0) {
      if (p == end || *p != '.') return std::nullopt;
      ++p;
    }
    if (p == end || !std::isdigit(static_cast<unsigned char>(*p))) return std::nullopt;
    unsigned octet = 0;
    auto [next, ec] = std::from_chars(p, end, octet);
    if (ec != std::errc{} || octet > 255 || next - p > 3) return std::nullopt;
    p = next;
    value = (value << 8) | octet;
  }
  if (p != end) return std::nullopt;
  return Ipv4{value};
}

std::string Ipv4::str() const {
  return fmt::format("{}.{}.{}.{}", value_ >> 24, (value_ >> 16) & 0xff, (value_ >> 8) & 0xff, value_ & 0xff);
}

std::optional<Ipv4Subnet> Ipv4Subnet::parse(std::string_view cidr) {
  auto slash = cidr.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  auto ip = Ipv4::parse(cidr.substr(0, slash));
  int prefix = -1;
  auto tail = cidr.substr(slash + 1);
  auto [next, ec] = std::from_chars(tail.data(), tail.data() + tail.size(), prefix);
  if (!ip || ec != std::errc{} || next != tail.data() + tail.size() || prefix < 0 || prefix > 32) return std::nullopt;
  Ipv4Subnet s{Ipv4{}, prefix};
  s.network = Ipv4{ip->value() & s.mask()};
  return s;
}

std::string Ipv4Subnet::str() const { return fmt::format("{}/{}", network.str(), prefix); }

}  // namespace ramfleet
