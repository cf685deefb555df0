#pragma once
// "Who holds this IPv4 address now?": what lets the boot layer mint a boot
// token only for the machine that is there. In full DHCP mode ramfleet hands
// out the addresses itself, so the answer is its own lease book (wired by
// `serve`, net/dhcp_address_owners.hpp); in proxy mode and with --dhcp off
// there is no such source and the boot layer falls back on the addresses the
// operator gave (docs/cluster.md, "Which machine gets the token").
#include <optional>
#include <string>

#include "core/ipv4.hpp"
#include "core/mac_address.hpp"

namespace ramfleet::boot {

class AddressOwners {
 public:
  virtual ~AddressOwners() = default;
  // True when ramfleet hands out the addresses (full DHCP mode): then
  // holder_of is the truth and a requester must hold its MAC's lease.
  [[nodiscard]] virtual bool leases_known() const = 0;
  // The MAC whose lease covers `address` now (bound, not expired); nullopt when none.
  [[nodiscard]] virtual std::optional<MacAddress> holder_of(Ipv4 address) const = 0;
  // The operator's DHCP reservation for `mac` (ramfleet.yaml dhcp.reservations), in any DHCP mode.
  struct Reservation {
    Ipv4 address;
    std::string hostname;  // empty when the reservation names none
  };
  [[nodiscard]] virtual std::optional<Reservation> reservation_of(const MacAddress& mac) const = 0;
};

}  // namespace ramfleet::boot
