#pragma once
// DHCP option codes (RFC 2132 and the PXE/iPXE extensions ramfleet speaks) and
// message types. Plain constants: the codec keeps options as raw bytes, the
// server decodes the few it needs through client_request.hpp.
#include <cstdint>
#include <optional>
#include <string_view>

namespace ramfleet::dhcp {

namespace option {
inline constexpr std::uint8_t pad = 0;
inline constexpr std::uint8_t subnet_mask = 1;
inline constexpr std::uint8_t router = 3;
inline constexpr std::uint8_t dns_servers = 6;
inline constexpr std::uint8_t hostname = 12;
inline constexpr std::uint8_t domain_name = 15;
inline constexpr std::uint8_t broadcast_address = 28;
inline constexpr std::uint8_t vendor_specific = 43;  // PXE sub-options when the vendor class is PXEClient
inline constexpr std::uint8_t requested_address = 50;
inline constexpr std::uint8_t lease_time = 51;
inline constexpr std::uint8_t overload = 52;
inline constexpr std::uint8_t message_type = 53;
inline constexpr std::uint8_t server_identifier = 54;
inline constexpr std::uint8_t parameter_request_list = 55;
inline constexpr std::uint8_t message = 56;
inline constexpr std::uint8_t max_message_size = 57;
inline constexpr std::uint8_t renewal_time = 58;
inline constexpr std::uint8_t rebinding_time = 59;
inline constexpr std::uint8_t vendor_class = 60;
inline constexpr std::uint8_t client_identifier = 61;
inline constexpr std::uint8_t tftp_server_name = 66;
inline constexpr std::uint8_t bootfile_name = 67;
inline constexpr std::uint8_t user_class = 77;
inline constexpr std::uint8_t relay_agent_information = 82;
inline constexpr std::uint8_t client_arch = 93;
inline constexpr std::uint8_t client_ndi = 94;
inline constexpr std::uint8_t client_uuid = 97;
inline constexpr std::uint8_t ipxe_encapsulated = 175;
inline constexpr std::uint8_t end = 255;

// Sub-options.
inline constexpr std::uint8_t pxe_discovery_control = 6;  // inside 43
inline constexpr std::uint8_t ipxe_no_pxedhcp = 176;      // inside 175
}  // namespace option

enum class MessageType : std::uint8_t {
  discover = 1,
  offer = 2,
  request = 3,
  decline = 4,
  ack = 5,
  nak = 6,
  release = 7,
  inform = 8,
};

inline std::optional<MessageType> message_type_from(std::uint8_t v) {
  if (v < 1 || v > 8) return std::nullopt;
  return static_cast<MessageType>(v);
}

inline std::string_view name(MessageType t) {
  switch (t) {
    case MessageType::discover:
      return "discover";
    case MessageType::offer:
      return "offer";
    case MessageType::request:
      return "request";
    case MessageType::decline:
      return "decline";
    case MessageType::ack:
      return "ack";
    case MessageType::nak:
      return "nak";
    case MessageType::release:
      return "release";
    case MessageType::inform:
      return "inform";
  }
  return "unknown";
}

}  // namespace ramfleet::dhcp
