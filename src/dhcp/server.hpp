#pragma once
// The DHCP server core, sans-IO: one received datagram plus its facts in, at
// most one reply plus where to send it out. The socket layer (net/dhcp_service)
// does nothing but move bytes and honour the Destination.
#include <chrono>
#include <cstdint>
#include <optional>

#include "core/counters.hpp"
#include "core/rate_limit.hpp"
#include "dhcp/boot_decision.hpp"
#include "dhcp/lease_book.hpp"
#include "dhcp/lease_store.hpp"
#include "dhcp/packet.hpp"
#include "dhcp/settings.hpp"

namespace ramfleet::dhcp {

inline constexpr std::uint16_t kServerPort = 67;
inline constexpr std::uint16_t kClientPort = 68;
inline constexpr std::uint16_t kPxePort = 4011;  // PXE boot server (proxyDHCP REQUESTs)

struct Received {
  ByteView payload;
  std::uint16_t local_port = kServerPort;  // 67, or 4011 for PXE boot-server requests
  Ipv4 source;                             // IP source address of the datagram
  std::uint16_t source_port = kClientPort;
  std::chrono::system_clock::time_point now;
};

struct Destination {
  enum class Kind {
    broadcast,            // 255.255.255.255:port out of the interface
    unicast,              // address:port (a relay at :67, a client with an IP at :68, a PXE client at its port)
    unicast_to_hardware,  // address:port for a client that has no IP yet: the socket layer must install an
                          // ARP entry address -> mac first (or broadcast if it cannot)
  };
  Kind kind = Kind::broadcast;
  Ipv4 address = Ipv4::broadcast();
  std::uint16_t port = kClientPort;
  MacAddress mac;
};

struct Reply {
  Bytes payload;
  Destination to;
  MessageType type = MessageType::offer;
  MacAddress client;   // the chaddr of the request answered
  bool boots = false;  // it carries boot options: a machine's firmware is booting (metrics' boot phases)
};

class Server {
 public:
  // leases may be null (proxy mode, or tests of full mode without persistence).
  // Throws StoreError when the existing leases cannot be read.
  Server(Settings settings, LeaseStore* leases, FileExists boot_file_exists);

  std::optional<Reply> handle(const Received& in);

  [[nodiscard]] const Counters& counters() const { return counters_; }
  Counters& counters() { return counters_; }  // the socket layer adds its own (send errors...)
  [[nodiscard]] const Settings& settings() const { return settings_; }
  // Which MAC holds address now (bound, unexpired lease; full mode only, else nullopt).
  // now: Unix seconds. The boot layer uses it to tie a request's source IP to a machine.
  [[nodiscard]] std::optional<MacAddress> lease_holder(Ipv4 address, std::int64_t now) const {
    return book_.holder_of(address, now);
  }
  // Every pool of every subnet with its addresses in use and free (full mode; empty otherwise).
  [[nodiscard]] std::vector<PoolUsage> pool_usage(std::int64_t now) const;

 private:
  struct Context;  // one request being answered
  std::optional<Reply> handle_proxy(Context& cx);
  std::optional<Reply> handle_boot_server(Context& cx);
  std::optional<Reply> handle_full(Context& cx);
  std::optional<Reply> discover(Context& cx, const SubnetSettings& subnet);
  std::optional<Reply> request(Context& cx, const SubnetSettings& subnet);
  std::optional<Reply> inform(Context& cx, const SubnetSettings& subnet);
  void decline(Context& cx);
  void release(Context& cx);

  std::optional<Reply> ack_lease(Context& cx, const SubnetSettings& subnet, Ipv4 address);
  std::optional<Reply> nak(Context& cx, std::string_view why);
  const SubnetSettings* subnet_for(const Context& cx) const;
  Packet reply_base(const Context& cx, MessageType type) const;
  void add_subnet_options(Packet& reply, const SubnetSettings& subnet) const;
  bool add_boot_options(Packet& reply, const Context& cx);
  Destination full_mode_destination(const Context& cx, const Packet& reply) const;
  std::optional<Reply> finish(Context& cx, Packet reply, Destination to);
  std::nullopt_t drop(const Context& cx, std::string_view reason);

  bool admit(const Context& cx);

  Settings settings_;
  FileExists boot_file_exists_;
  LeaseBook book_;
  Counters counters_;
  KeyedRateLimiter<MacAddress, std::chrono::system_clock> per_mac_;
  TokenBucket<std::chrono::system_clock> global_;
  LogThrottle<std::chrono::system_clock> pool_exhausted_log_;
  LogThrottle<std::chrono::system_clock> rate_limited_log_;
};

}  // namespace ramfleet::dhcp
