#pragma once
// What a client tells us about itself, decoded from a parsed packet's options:
// PXE architecture (93), vendor class (60), user class (77, both RFC 3004 and
// iPXE's raw form), iPXE's encapsulated options (175), UUID (97)...
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "dhcp/packet.hpp"

namespace ramfleet::dhcp {

struct ClientRequest {
  MessageType type = MessageType::discover;
  MacAddress mac;
  Bytes client_id;                                   // option 61, or empty
  std::optional<std::uint16_t> arch;                 // first entry of option 93
  std::string vendor_class;                          // option 60
  std::vector<std::string> user_classes;             // option 77
  bool has_ipxe_options = false;                     // option 175 present
  std::optional<Ipv4> requested_address;             // option 50
  std::optional<Ipv4> server_identifier;             // option 54
  Bytes uuid;                                        // option 97 without its type byte
  std::optional<std::uint16_t> max_message_size;     // option 57
  std::vector<std::uint8_t> parameter_request_list;  // option 55

  [[nodiscard]] bool is_pxe() const;   // vendor class starts with PXEClient
  [[nodiscard]] bool is_http() const;  // vendor class starts with HTTPClient
  [[nodiscard]] bool is_ipxe() const;  // user class "iPXE" or option 175
};

// Decodes what the server needs. nullopt when option 53 is missing (plain BOOTP).
std::optional<ClientRequest> decode_request(const Packet& p);

// Option 77: RFC 3004 instances (length-prefixed), or the whole option as one
// raw string when it does not parse that way (iPXE sends plain "iPXE").
std::vector<std::string> decode_user_classes(ByteView data);

}  // namespace ramfleet::dhcp
