#pragma once
// The DHCP socket layer: UDP 67 (and 4011 in proxy mode) bound to the boot
// interface, datagrams handed to the sans-IO dhcp::Server, replies sent where
// it says (including to clients that have no IP yet, via an ARP entry).
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include "core/counters.hpp"
#include "core/metrics.hpp"
#include "dhcp/lease_store.hpp"
#include "dhcp/server.hpp"
#include "dhcp/settings.hpp"
#include "net/interface.hpp"

namespace ramfleet::net {

class DhcpService {
 public:
  // leases: null in proxy mode. Throws dhcp::StoreError when existing leases cannot be read.
  DhcpService(boost::asio::io_context& io, const Interface& iface, dhcp::Settings settings, dhcp::LeaseStore* leases);
  // Binds UDP 67 (and 4011 in proxy mode) on the interface (SO_BINDTODEVICE,
  // SO_BROADCAST, IP_PKTINFO). Throws std::system_error with a clear message.
  void start();
  [[nodiscard]] const Counters& counters() const;
  // Adds this service's metrics to `registry` (counters, pool usage) and
  // times each decision into it. The registry must outlive this service.
  void attach_metrics(metrics::Registry& registry);
  // Called with the client's MAC whenever an OFFER carries boot options (a
  // machine's firmware is booting): the boot layer's discover milestone.
  void on_boot_offer(std::function<void(const MacAddress&)> hook) { on_boot_offer_ = std::move(hook); }
  // Which MAC holds IPv4 address now: a bound lease that has not expired (full
  // mode; always nullopt in proxy mode, where another server owns the leases).
  // now: Unix seconds (system clock, the clock lease expiries are written in).
  [[nodiscard]] std::optional<MacAddress> lease_holder(Ipv4 address, std::int64_t now) const {
    return server_.lease_holder(address, now);
  }

 private:
  struct Listener {
    boost::asio::ip::udp::socket socket;
    std::uint16_t port;
  };
  void open(Listener& l);
  void arm(Listener& l);
  void drain(Listener& l);
  void send(Listener& l, const dhcp::Reply& reply);
  void commit_and_send(Listener& l);
  bool add_arp_entry(int fd, Ipv4 address, const MacAddress& mac);

  boost::asio::io_context& io_;
  Interface iface_;
  dhcp::LeaseStore* leases_;  // null in proxy mode
  dhcp::Server server_;
  std::vector<std::unique_ptr<Listener>> listeners_;
  std::vector<std::uint8_t> buffer_;
  std::vector<dhcp::Reply> held_acks_;  // waiting for this turn's group commit
  metrics::Histogram* decision_seconds_ = nullptr;
  std::function<void(const MacAddress&)> on_boot_offer_;
};

}  // namespace ramfleet::net
