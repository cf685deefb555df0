#pragma once
// Answers IPv6 Router Solicitations on the boot interface with a Router
// Advertisement that says "no router, no prefix, no DHCPv6" (lifetime 0,
// M=0, O=0), so iPXE's IPv6 autoconfiguration ends at once instead of
// timing out (lab-notes: ~13 s per boot).
#include <array>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/icmp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cstdint>
#include <optional>

#include "core/bytes.hpp"
#include "core/counters.hpp"
#include "dhcp/ra_pacer.hpp"
#include "net/interface.hpp"

namespace ramfleet::net {

// The RA body (ICMPv6 type 134; the kernel fills the checksum): hop limit 64,
// no flags, router lifetime 0, source link-layer address option.
Bytes router_advertisement(const MacAddress& mac);

class RouterAdvertiser {
 public:
  RouterAdvertiser(boost::asio::io_context& io, const Interface& iface);
  // Opens the raw ICMPv6 socket and sends one unsolicited RA. With no IPv6
  // link-local address on the interface it logs and stays idle. Throws
  // std::system_error when the socket cannot be opened.
  void start();
  // ra.rx.solicitation, ra.tx.unicast, ra.tx.multicast, ra.coalesced...
  [[nodiscard]] const Counters& counters() const { return counters_; }

 private:
  void try_bind(int attempt);
  void arm();
  void drain();
  void send_to(const std::array<std::uint8_t, 16>& address);
  void schedule_multicast(dhcp::RaPacer::TimePoint at);

  Interface iface_;
  boost::asio::ip::icmp::socket socket_;
  boost::asio::steady_timer retry_;
  boost::asio::steady_timer pace_;  // the multicast RA the pacer scheduled
  dhcp::RaPacer pacer_;
  Counters counters_;
  std::array<std::uint8_t, 16> link_local_{};
  Bytes ra_;
  std::uint64_t sent_ = 0;
};

}  // namespace ramfleet::net
