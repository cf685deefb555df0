#pragma once
#include <array>
#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace ramfleet {

// An Ethernet hardware address. Text form is lower-case, colon separated.
class MacAddress {
 public:
  MacAddress() = default;
  explicit MacAddress(const std::array<std::uint8_t, 6>& octets) : octets_(octets) {}

  // Accepts "52:54:00:12:34:56", "52-54-00-12-34-56" and "525400123456".
  static std::optional<MacAddress> parse(std::string_view text);

  [[nodiscard]] const std::array<std::uint8_t, 6>& octets() const { return octets_; }
  [[nodiscard]] std::string str() const;
  [[nodiscard]] bool is_zero() const;
  auto operator<=>(const MacAddress&) const = default;

 private:
  std::array<std::uint8_t, 6> octets_{};
};

}  // namespace ramfleet
