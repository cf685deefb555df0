#pragma once
// The HTTP boot service's transport: a Beast parser and an Asio acceptor on the
// caller's io_context (single thread, one coroutine per connection). Requests
// go to http::route() (the portable core), replies go out with send(2) and
// sendfile(2). It enforces the limits of http::HttpLimits (deadlines, send
// rate, connection caps) and runs the timers of the core's upkeep (inventory
// reload, store flush).
//
//   boost::asio::io_context io;
//   ramfleet::net::HttpServer http(io, settings);
//   http.start();  // throws std::system_error naming what failed (bind, inventory, store)
//   io.run();
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>

#include "core/ipv4.hpp"
#include "http/settings.hpp"

namespace boost::asio {
class io_context;
class thread_pool;
}  // namespace boost::asio

namespace ramfleet {
class Counters;
class MacAddress;
}  // namespace ramfleet
namespace ramfleet::metrics {
class Registry;
}
namespace ramfleet::http {
struct ServiceState;
}
namespace ramfleet::boot {
class AddressOwners;
class EtcdMembership;
}  // namespace ramfleet::boot

namespace ramfleet::net {

class HttpServer {
 public:
  HttpServer(boost::asio::io_context& io, http::HttpSettings settings);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Loads the inventory (errors: std::system_error listing file:line:col), opens
  // <state>/ramfleet.db, binds and starts accepting. Nothing runs until io.run().
  void start();
  // Stops accepting and flushes boot records; connections finish on their own.
  void stop();
  // Shutting down gracefully: stops accepting, closes kept-alive connections
  // waiting for their next request, and answers each request in flight with
  // `Connection: close`. open_connections() reaches 0 when the last reply is out.
  void drain();
  [[nodiscard]] std::size_t open_connections() const;

  // SIGHUP: reloads the inventory and cluster.yaml now, changed or not.
  // Returns false when they have errors (logged with file:line:col; the
  // previous ones keep serving).
  bool reload_config();
  // SIGHUP: the settings a running service takes live (limits, boot tokens,
  // base URL, reload interval; settings/serve_reload.hpp); the rest of
  // `settings` is ignored.
  void apply_live_settings(const http::HttpSettings& settings);

  // The bound port (useful with port 0).
  [[nodiscard]] std::uint16_t port() const;
  [[nodiscard]] const Counters& counters() const;
  // Who holds which address (boot/address_owners.hpp), for binding boot
  // tokens to the machine that is there; null: nothing tells. Must outlive this.
  void set_address_owners(const boot::AddressOwners* owners);
  // etcd membership (cluster.yaml etcd.mode: ramfleet, docs/etcd.md); null: none. Must outlive this.
  void set_etcd_membership(boot::EtcdMembership* etcd);
  // What GET /metrics renders: this service adds its counters and gauges, its
  // request times by route and the boot phases. Must outlive this.
  void attach_metrics(metrics::Registry& registry);
  // DHCP answered this machine's firmware with boot options (boot phases' discover).
  void note_boot_offer(const MacAddress& mac);
  // What TFTP did for a client (net/tftp_service.hpp's on_transfer), for the
  // boot report; attributed to a machine through the lease book (full DHCP).
  void note_tftp(Ipv4 client, std::string_view what);

  // What the operator listener (net/operator_server) shares with this one:
  // the same state (inventory, store, counters), touched only from the
  // loop, and the worker that runs Reply::offload reads.
  [[nodiscard]] http::ServiceState& state();
  [[nodiscard]] boost::asio::thread_pool& workers();

  struct Impl;

 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace ramfleet::net
