#pragma once
// The TFTP server's sockets: a listener on settings.port that accepts read
// requests, and one UDP socket per transfer on an ephemeral port bound to the
// address the request was sent to (found with IP_PKTINFO, so replies leave
// from the right source address even when listening on 0.0.0.0). Everything
// runs on one io_context thread; the protocol lives in src/tftp.
#include <boost/asio/io_context.hpp>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string_view>

#include "core/counters.hpp"
#include "core/ipv4.hpp"
#include "core/metrics.hpp"
#include "tftp/settings.hpp"

namespace ramfleet::net {

class TftpService {
 public:
  // settings.roots empty: serves the ipxe package's binaries (tftp::kIpxePackageDir).
  TftpService(boost::asio::io_context& io, Ipv4 bind_address, tftp::Settings settings);
  ~TftpService();
  TftpService(const TftpService&) = delete;
  TftpService& operator=(const TftpService&) = delete;

  // Binds UDP settings.port on bind_address (0.0.0.0 allowed) and starts serving.
  // Throws std::system_error with a message naming the address and port.
  void start();
  // Shutting down gracefully: closes the listener, so no new transfer starts;
  // transfers under way go on until they end (active_transfers() reaches 0).
  void stop_accepting();

  [[nodiscard]] const Counters& counters() const;
  // Adds this service's counters and active transfers to `registry`, and
  // times and sizes each transfer into it. The registry must outlive this.
  void attach_metrics(metrics::Registry& registry);
  [[nodiscard]] std::size_t active_transfers() const;
  // Told what happened to each client's request, in words ("fetched
  // undionly.kpxe over TFTP", "TFTP busy: ... dropped"), for the boot report
  // (boot/boot_progress.hpp). Runs on the service's thread.
  void on_transfer(std::function<void(Ipv4 client, std::string_view what)> hook);
  // The bound port (useful when settings.port is 0, e.g. in tests).
  [[nodiscard]] std::uint16_t port() const;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace ramfleet::net
