#pragma once
// The DHCP/BOOTP wire format (RFC 2131 section 2, RFC 2132 options, RFC 3396
// long options, option 52 overload). Parsing is bounds-checked and returns a
// named reason on failure; serialising is the exact inverse for what parse accepts.
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/bytes.hpp"
#include "core/ipv4.hpp"
#include "core/mac_address.hpp"
#include "dhcp/options.hpp"

namespace ramfleet::dhcp {

inline constexpr std::size_t kFixedHeaderSize = 236;                 // op .. file
inline constexpr std::size_t kMinPacketSize = kFixedHeaderSize + 4;  // + magic cookie
inline constexpr std::size_t kMaxPacketSize = 1500;  // one Ethernet frame; larger is not a DHCP packet we accept
inline constexpr std::uint32_t kMagicCookie = 0x63825363;
inline constexpr std::uint16_t kBroadcastFlag = 0x8000;

enum class ParseError {
  too_short,             // shorter than the fixed header + cookie
  too_long,              // larger than kMaxPacketSize
  bad_op,                // op is neither BOOTREQUEST nor BOOTREPLY
  bad_hardware_length,   // hlen > 16
  bad_magic_cookie,      // not 99.130.83.99
  option_overrun,        // an option's length runs past the end of its area
  bad_message_type,      // option 53 present but not exactly one byte
  unknown_message_type,  // option 53 outside 1..8
  bad_overload,          // option 52 not one byte of 1, 2 or 3
};
std::string_view name(ParseError e);

struct Option {
  std::uint8_t code = 0;
  Bytes data;
  bool operator==(const Option&) const = default;
};

struct Packet {
  std::uint8_t op = 1;  // 1 BOOTREQUEST, 2 BOOTREPLY
  std::uint8_t htype = 1;
  std::uint8_t hlen = 6;
  std::uint8_t hops = 0;
  std::uint32_t xid = 0;
  std::uint16_t secs = 0;
  std::uint16_t flags = 0;
  Ipv4 ciaddr, yiaddr, siaddr, giaddr;
  std::array<std::uint8_t, 16> chaddr{};
  std::string sname;  // NUL-terminated on the wire, at most 63 characters
  std::string file;   // at most 127 characters (longer boot files go in option 67)
  // In wire order; a code split across several instances (RFC 3396) is joined here.
  std::vector<Option> options;

  [[nodiscard]] const Bytes* find(std::uint8_t code) const;
  void set(std::uint8_t code, Bytes data);  // replaces or appends
  void set(std::uint8_t code, std::string_view text) { set(code, Bytes(text.begin(), text.end())); }
  void set_u8(std::uint8_t code, std::uint8_t v) { set(code, Bytes{v}); }
  void set_u32(std::uint8_t code, std::uint32_t v);
  void set_address(std::uint8_t code, Ipv4 a);

  [[nodiscard]] std::optional<MessageType> message_type() const;
  [[nodiscard]] MacAddress mac() const;  // first 6 bytes of chaddr
  void set_mac(const MacAddress& m);
  [[nodiscard]] bool broadcast_flag() const { return (flags & kBroadcastFlag) != 0; }
  bool operator==(const Packet&) const = default;
};

using ParseResult = std::variant<Packet, ParseError>;
ParseResult parse(ByteView wire);

// Serialises with options in the main area (split at 255 bytes), an end option,
// then zero padding up to min_size (BOOTP clients expect at least 300 bytes).
Bytes serialize(const Packet& p, std::size_t min_size = 300);

// Reads a sequence of code/length/value sub-options (option 43, 82, 175).
// nullopt when a length overruns.
std::optional<std::vector<Option>> parse_suboptions(ByteView data);
Bytes encode_suboptions(const std::vector<Option>& subs);

}  // namespace ramfleet::dhcp
