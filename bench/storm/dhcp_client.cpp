#include "dhcp_client.hpp"

#include <sys/socket.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cstring>
#include <random>
#include <stdexcept>

namespace storm {
namespace asio = boost::asio;
using asio::ip::udp;
using ramfleet::Ipv4;
namespace dhcp = ramfleet::dhcp;

namespace {
// A NAK (or a REQUEST never answered) sends the client back to DISCOVER, as
// RFC 2131 says, after a short random pause (the firmware's restart; it also
// keeps NAKed clients from colliding again in step); firmware keeps trying,
// the bench this many times. dnsmasq does not hold the address it offered, so
// in a storm two machines can be offered the same one and the second is
// NAKed: it needs a few rounds.
constexpr int kMaxDoraAttempts = 30;
constexpr int kRestartPauseMaxMs = 2000;

std::optional<Ipv4> address_option(const dhcp::Packet& p, std::uint8_t code) {
  const auto* v = p.find(code);
  if (!v || v->size() != 4) return std::nullopt;
  return Ipv4((*v)[0], (*v)[1], (*v)[2], (*v)[3]);
}

// The options a PXE 2.1 ROM (BIOS, arch 0, UNDI 2.1) and then iPXE send.
void firmware_options(dhcp::Packet& p, const Machine& m, bool as_ipxe) {
  p.set(dhcp::option::vendor_class, "PXEClient:Arch:00000:UNDI:002001");
  p.set(dhcp::option::client_arch, ramfleet::Bytes{0, 0});
  p.set(dhcp::option::client_ndi, ramfleet::Bytes{1, 2, 1});
  ramfleet::Bytes uuid{0};
  uuid.insert(uuid.end(), m.uuid.begin(), m.uuid.end());
  p.set(dhcp::option::client_uuid, uuid);
  p.set(dhcp::option::max_message_size, ramfleet::Bytes{0x05, 0xc0});  // 1472
  if (as_ipxe) {
    p.set(dhcp::option::user_class, "iPXE");
    // iPXE's feature flags (option 175): PXE extensions, HTTP, DNS, bzImage.
    p.set(dhcp::option::ipxe_encapsulated, ramfleet::Bytes{0x10, 1, 2, 0x13, 1, 1, 0x11, 1, 1, 0x18, 1, 1});
    p.set(dhcp::option::parameter_request_list,
          ramfleet::Bytes{1,   3,   6,   7,   12,  15,  17,  26,  43,  60,  66, 67,
                          119, 128, 129, 130, 131, 132, 133, 134, 135, 175, 203});
  } else {
    p.set(dhcp::option::parameter_request_list,
          ramfleet::Bytes{1,  2,  3,  5,  6,   11,  12,  13,  15,  16,  17,  18, 43,
                          54, 60, 66, 67, 128, 129, 130, 131, 132, 133, 134, 135});
  }
}

dhcp::Packet request_packet(const Machine& m, std::uint32_t xid, std::uint16_t secs) {
  dhcp::Packet p;
  p.op = 1;
  p.xid = xid;
  p.secs = secs;
  // Broadcast flag set, as iPXE sets it: the answer comes to 255.255.255.255,
  // which one shared socket can receive for every simulated machine (a
  // unicast to a client's own MAC would not reach this host's stack).
  p.flags = dhcp::kBroadcastFlag;
  p.set_mac(m.mac);
  return p;
}
}  // namespace

DhcpPort::DhcpPort(asio::io_context& io, const std::string& interface) : io_(io), socket_(io) {
  socket_.open(udp::v4());
  socket_.set_option(asio::socket_base::reuse_address(true));
  socket_.set_option(asio::socket_base::broadcast(true));
  if (::setsockopt(socket_.native_handle(), SOL_SOCKET, SO_BINDTODEVICE, interface.c_str(),
                   static_cast<socklen_t>(interface.size())) != 0)
    throw std::runtime_error("SO_BINDTODEVICE " + interface + ": " + std::strerror(errno));
  int big = 8 << 20;  // a storm's OFFERs arrive at once; firmware would lose them, the bench should not
  ::setsockopt(socket_.native_handle(), SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof big);
  ::setsockopt(socket_.native_handle(), SOL_SOCKET, SO_SNDBUFFORCE, &big, sizeof big);
  socket_.bind(udp::endpoint(asio::ip::address_v4::any(), 68));
}

void DhcpPort::start() { asio::co_spawn(io_, receive_loop(), asio::detached); }

void DhcpPort::close() {
  boost::system::error_code ec;
  socket_.close(ec);
}

// One wake-up takes every datagram queued, not one: with a thousand TCP
// downloads in the same loop, one datagram per turn of the loop left replies
// queued for longer than the machines wait for them.
asio::awaitable<void> DhcpPort::receive_loop() {
  std::array<std::uint8_t, 2048> buf{};
  udp::endpoint from;
  socket_.non_blocking(true);
  for (;;) {
    boost::system::error_code ec;
    co_await socket_.async_wait(udp::socket::wait_read, asio::redirect_error(asio::use_awaitable, ec));
    if (ec == asio::error::operation_aborted || !socket_.is_open()) co_return;
    for (int i = 0; i < 4096; ++i) {
      auto n = socket_.receive_from(asio::buffer(buf), from, 0, ec);
      if (ec) break;  // would_block: all taken
      deliver(ramfleet::ByteView(buf.data(), n));
    }
  }
}

void DhcpPort::deliver(ramfleet::ByteView datagram) {
  auto parsed = dhcp::parse(datagram);
  auto* p = std::get_if<dhcp::Packet>(&parsed);
  if (!p || p->op != 2) return;
  ++received_;
  auto it = waiting_.find(p->mac());
  if (it == waiting_.end() || it->second->xid != p->xid) {
    ++stray_;
    return;
  }
  it->second->packets.push_back(std::move(*p));
  it->second->wake.cancel();
}

void DhcpPort::send(const dhcp::Packet& p) {
  auto wire = dhcp::serialize(p);
  boost::system::error_code ec;
  socket_.send_to(asio::buffer(wire), udp::endpoint(asio::ip::address_v4::broadcast(), 67), 0, ec);
  // A full send buffer is a lost packet, which the retransmission covers; counted.
  ++(ec ? send_errors_ : sent_);
}

asio::awaitable<std::optional<dhcp::Packet>> DhcpPort::await_reply(Inbox& in, dhcp::MessageType want,
                                                                   Clock::time_point until) {
  for (;;) {
    while (!in.packets.empty()) {
      auto p = std::move(in.packets.front());
      in.packets.pop_front();
      auto t = p.message_type();
      if (t == want || t == dhcp::MessageType::nak) co_return p;
    }
    if (Clock::now() >= until) co_return std::nullopt;
    in.wake.expires_at(until);
    boost::system::error_code ec;
    co_await in.wake.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
}

asio::awaitable<std::optional<Lease>> DhcpPort::dora(Storm& storm, Machine& m, bool as_ipxe, std::string& why) {
  static std::mt19937 rng(12345);
  Inbox in(co_await asio::this_coro::executor);
  waiting_[m.mac] = &in;
  struct Unregister {
    DhcpPort* self;
    ramfleet::MacAddress mac;
    ~Unregister() { self->waiting_.erase(mac); }
  } unregister{this, m.mac};

  static constexpr int kBackoff[] = {4, 8, 16, 32};  // PXE spec: DISCOVER at 4, 8, 16, 32 s
  const auto began = Clock::now();
  for (int attempt = 0; attempt < kMaxDoraAttempts; ++attempt) {
    in.xid = rng();
    std::optional<dhcp::Packet> offer;
    for (int wait_s : kBackoff) {
      auto secs =
          static_cast<std::uint16_t>(std::chrono::duration_cast<std::chrono::seconds>(Clock::now() - began).count());
      auto d = request_packet(m, in.xid, secs);
      d.set_u8(dhcp::option::message_type, static_cast<std::uint8_t>(dhcp::MessageType::discover));
      firmware_options(d, m, as_ipxe);
      send(d);
      auto until = std::min(Clock::now() + std::chrono::seconds(wait_s), storm.deadline);
      offer = co_await await_reply(in, dhcp::MessageType::offer, until);
      if (offer && offer->message_type() == dhcp::MessageType::offer && !offer->yiaddr.is_zero()) break;
      offer.reset();
      if (storm.past_deadline()) break;
      storm.retry(m, as_ipxe ? "ipxe-dhcp" : "dhcp", "DISCOVER unanswered");
    }
    if (!offer) {
      why = storm.past_deadline() ? "deadline waiting for an OFFER" : "no OFFER after 4 DISCOVERs (60 s)";
      co_return std::nullopt;
    }
    auto server = address_option(*offer, dhcp::option::server_identifier);
    if (!server) {
      why = "OFFER without a server identifier";
      co_return std::nullopt;
    }
    std::optional<dhcp::Packet> ack;
    for (int wait_s : {4, 8, 16}) {
      auto secs =
          static_cast<std::uint16_t>(std::chrono::duration_cast<std::chrono::seconds>(Clock::now() - began).count());
      auto r = request_packet(m, in.xid, secs);
      r.set_u8(dhcp::option::message_type, static_cast<std::uint8_t>(dhcp::MessageType::request));
      r.set_address(dhcp::option::requested_address, offer->yiaddr);
      r.set_address(dhcp::option::server_identifier, *server);
      firmware_options(r, m, as_ipxe);
      send(r);
      auto until = std::min(Clock::now() + std::chrono::seconds(wait_s), storm.deadline);
      ack = co_await await_reply(in, dhcp::MessageType::ack, until);
      if (ack) break;
      if (storm.past_deadline()) break;
      storm.retry(m, as_ipxe ? "ipxe-dhcp" : "dhcp", "REQUEST unanswered");
    }
    if (!ack) {
      why = storm.past_deadline() ? "deadline waiting for an ACK" : "no ACK after 3 REQUESTs";
      continue;
    }
    if (ack->message_type() == dhcp::MessageType::nak) {
      why = "NAK (" + std::to_string(attempt + 1) + " DORA rounds)";
      storm.retry(m, as_ipxe ? "ipxe-dhcp" : "dhcp", "NAK");
      asio::steady_timer pause(co_await asio::this_coro::executor);
      pause.expires_at(std::min(Clock::now() + std::chrono::milliseconds(rng() % kRestartPauseMaxMs), storm.deadline));
      boost::system::error_code ec;
      co_await pause.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      continue;
    }
    Lease l;
    l.address = ack->yiaddr;
    l.server = *server;
    l.next_server = ack->siaddr.is_zero() ? *server : ack->siaddr;
    if (const auto* f = ack->find(dhcp::option::bootfile_name)) {
      l.boot_file.assign(f->begin(), f->end());
      while (!l.boot_file.empty() && l.boot_file.back() == '\0') l.boot_file.pop_back();
    } else {
      l.boot_file = ack->file;
    }
    if (l.address.is_zero()) {
      why = "ACK without an address";
      co_return std::nullopt;
    }
    co_return l;
  }
  co_return std::nullopt;
}

}  // namespace storm
