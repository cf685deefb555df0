#include "net/interface.hpp"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <netinet/in.h>

#include <array>
#include <bit>
#include <memory>

namespace ramfleet::net {

std::optional<Interface> find_interface(const std::string& name) {
  ifaddrs* raw = nullptr;
  if (getifaddrs(&raw) != 0) return std::nullopt;
  std::unique_ptr<ifaddrs, decltype(&freeifaddrs)> list(raw, &freeifaddrs);

  Interface iface;
  iface.name = name;
  iface.index = if_nametoindex(name.c_str());
  if (iface.index == 0) return std::nullopt;
  bool have_ipv4 = false;
  for (ifaddrs* a = raw; a != nullptr; a = a->ifa_next) {
    if (a->ifa_addr == nullptr || name != a->ifa_name) continue;
    if (a->ifa_addr->sa_family == AF_INET && !have_ipv4) {
      auto* sin = reinterpret_cast<sockaddr_in*>(a->ifa_addr);
      auto* mask = reinterpret_cast<sockaddr_in*>(a->ifa_netmask);
      iface.address = Ipv4{ntohl(sin->sin_addr.s_addr)};
      int prefix = mask ? std::popcount(ntohl(mask->sin_addr.s_addr)) : 32;
      iface.subnet = Ipv4Subnet{Ipv4{iface.address.value() & (prefix == 0 ? 0 : ~0U << (32 - prefix))}, prefix};
      have_ipv4 = true;
    } else if (a->ifa_addr->sa_family == AF_PACKET) {
      auto* ll = reinterpret_cast<sockaddr_ll*>(a->ifa_addr);
      if (ll->sll_halen == 6) {
        std::array<std::uint8_t, 6> o{};
        for (int i = 0; i < 6; ++i) o[i] = ll->sll_addr[i];
        iface.mac = MacAddress{o};
      }
    }
  }
  if (!have_ipv4) return std::nullopt;
  return iface;
}

}  // namespace ramfleet::net
