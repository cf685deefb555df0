#pragma once
#include <optional>
#include <string>

#include "core/ipv4.hpp"
#include "core/mac_address.hpp"

namespace ramfleet::net {

// A network interface as the boot services need it: its index for
// SO_BINDTODEVICE / IP_PKTINFO, its first IPv4 address (advertised as
// next-server) and the subnet that address sits in.
struct Interface {
  std::string name;
  unsigned index = 0;
  MacAddress mac;
  Ipv4 address;
  Ipv4Subnet subnet;
};

// Looks the interface up by name; nullopt when it does not exist or has no IPv4 address.
std::optional<Interface> find_interface(const std::string& name);

}  // namespace ramfleet::net
