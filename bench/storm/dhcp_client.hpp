#pragma once
// DHCP as a machine without an address speaks it: broadcasts from 0.0.0.0:68
// out of one interface, replies received on one shared socket and handed to
// the machine whose hardware address they carry. DORA with the firmware's
// retransmission schedule (PXE: 4, 8, 16, 32 s), once as the PXE ROM and once
// as iPXE. Packets are built and parsed by the project's own codec (src/dhcp).
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "dhcp/packet.hpp"
#include "storm.hpp"

namespace storm {

// What a finished DORA gives the machine.
struct Lease {
  ramfleet::Ipv4 address;
  ramfleet::Ipv4 server;       // option 54
  ramfleet::Ipv4 next_server;  // siaddr (where TFTP is), else the server
  std::string boot_file;       // option 67, else the file field
};

class DhcpPort {
 public:
  DhcpPort(boost::asio::io_context& io, const std::string& interface);
  // Starts receiving; replies for machines that are not waiting are counted and dropped.
  void start();
  void close();

  // One DORA; nullopt (with why) after the retransmissions or at the deadline.
  boost::asio::awaitable<std::optional<Lease>> dora(Storm& storm, Machine& m, bool as_ipxe, std::string& why);

  [[nodiscard]] std::uint64_t stray_replies() const { return stray_; }
  [[nodiscard]] std::uint64_t sent() const { return sent_; }
  [[nodiscard]] std::uint64_t send_errors() const { return send_errors_; }
  [[nodiscard]] std::uint64_t received() const { return received_; }

 private:
  struct Inbox {
    explicit Inbox(boost::asio::any_io_executor ex) : wake(ex) {}
    std::uint32_t xid = 0;
    std::deque<ramfleet::dhcp::Packet> packets;
    boost::asio::steady_timer wake;
  };
  boost::asio::awaitable<void> receive_loop();
  void deliver(ramfleet::ByteView datagram);
  boost::asio::awaitable<std::optional<ramfleet::dhcp::Packet>> await_reply(Inbox& in, ramfleet::dhcp::MessageType want,
                                                                            Clock::time_point until);
  void send(const ramfleet::dhcp::Packet& p);

  boost::asio::io_context& io_;
  boost::asio::ip::udp::socket socket_;
  std::map<ramfleet::MacAddress, Inbox*> waiting_;
  std::uint64_t stray_ = 0;
  std::uint64_t sent_ = 0, send_errors_ = 0, received_ = 0;
};

}  // namespace storm
