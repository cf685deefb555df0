#pragma once
// boot::AddressOwners over what ramfleet's DHCP side knows: the lease book
// (full mode: who holds which address now, DhcpService::lease_holder) and the
// operator's reservations (ramfleet.yaml dhcp.reservations, in any mode).
// Read on the event loop that runs both services, so no locking.
#include <ctime>
#include <optional>
#include <string>

#include "boot/address_owners.hpp"
#include "dhcp/settings.hpp"
#include "net/dhcp_service.hpp"

namespace ramfleet::net {

class DhcpAddressOwners final : public boot::AddressOwners {
 public:
  // `dhcp`: the DHCP service in full mode, else null. Both must outlive this.
  DhcpAddressOwners(const dhcp::Settings& settings, const DhcpService* dhcp) : settings_(settings), dhcp_(dhcp) {}

  [[nodiscard]] bool leases_known() const override { return dhcp_ != nullptr; }

  [[nodiscard]] std::optional<MacAddress> holder_of(Ipv4 address) const override {
    if (dhcp_ == nullptr) return std::nullopt;
    return dhcp_->lease_holder(address, static_cast<std::int64_t>(std::time(nullptr)));
  }

  [[nodiscard]] std::optional<Reservation> reservation_of(const MacAddress& mac) const override {
    for (const auto& r : settings_.reservations) {
      if (r.mac == mac) return Reservation{r.address, r.hostname};
    }
    return std::nullopt;
  }

 private:
  const dhcp::Settings& settings_;
  const DhcpService* dhcp_;
};

}  // namespace ramfleet::net
