#pragma once
#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace ramfleet {

// An IPv4 address held in host byte order, so ranges and masks are plain arithmetic.
class Ipv4 {
 public:
  constexpr Ipv4() = default;
  constexpr explicit Ipv4(std::uint32_t host_order) : value_(host_order) {}
  constexpr Ipv4(std::uint8_t a, std::uint8_t b, std::uint8_t c, std::uint8_t d)
      : value_((std::uint32_t{a} << 24) | (std::uint32_t{b} << 16) | (std::uint32_t{c} << 8) | d) {}

  static std::optional<Ipv4> parse(std::string_view text);
  static constexpr Ipv4 any() { return Ipv4{0}; }
  static constexpr Ipv4 broadcast() { return Ipv4{0xffffffffU}; }

  [[nodiscard]] constexpr std::uint32_t value() const { return value_; }
  [[nodiscard]] constexpr bool is_zero() const { return value_ == 0; }
  [[nodiscard]] std::string str() const;
  auto operator<=>(const Ipv4&) const = default;

 private:
  std::uint32_t value_ = 0;
};

// An IPv4 subnet: network address plus prefix length, e.g. 10.0.0.0/24.
struct Ipv4Subnet {
  Ipv4 network;
  int prefix = 0;

  static std::optional<Ipv4Subnet> parse(std::string_view cidr);
  [[nodiscard]] std::uint32_t mask() const { return prefix == 0 ? 0 : ~std::uint32_t{0} << (32 - prefix); }
  [[nodiscard]] Ipv4 netmask() const { return Ipv4{mask()}; }
  [[nodiscard]] Ipv4 broadcast() const { return Ipv4{network.value() | ~mask()}; }
  [[nodiscard]] bool contains(Ipv4 ip) const { return (ip.value() & mask()) == network.value(); }
  [[nodiscard]] std::string str() const;
  bool operator==(const Ipv4Subnet&) const = default;
};

}  // namespace ramfleet
