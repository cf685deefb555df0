#include "tftp_client.hpp"

#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "tftp/packet.hpp"

namespace storm {
namespace asio = boost::asio;
using asio::ip::udp;
using namespace asio::experimental::awaitable_operators;
namespace tftp = ramfleet::tftp;

namespace {
// Firmware waits a few seconds for each packet and gives up after a few
// retransmissions (OVMF's Mtftp4: 4 s, 6 times); the bench does the same.
constexpr auto kPacketTimeout = std::chrono::seconds(4);
constexpr int kMaxRetransmits = 6;
constexpr std::uint64_t kMaxFile = 64u << 20;  // an iPXE binary is ~100 KiB
}  // namespace

asio::awaitable<std::optional<std::uint64_t>> tftp_fetch(Storm& storm, Machine& m, const std::string& source,
                                                         const TftpFetch& f, std::string& why) {
  auto ex = co_await asio::this_coro::executor;
  udp::socket sock(ex);
  boost::system::error_code ec;
  sock.open(udp::v4(), ec);
  if (!ec) sock.bind(udp::endpoint(asio::ip::make_address_v4(source, ec), 0), ec);
  if (ec) {
    why = "cannot bind to the leased address " + source + ": " + ec.message();
    co_return std::nullopt;
  }
  const udp::endpoint listen(asio::ip::make_address_v4(f.server, ec), 69);
  if (ec) {
    why = "bad TFTP server " + f.server;
    co_return std::nullopt;
  }

  tftp::Request rrq;
  rrq.filename = f.file;
  if (f.blksize > 0) {
    rrq.options.push_back({"blksize", std::to_string(f.blksize)});
    rrq.options.push_back({"tsize", "0"});
  }
  ramfleet::Bytes last;  // what to send again when nothing comes
  tftp::encode_request(rrq, last);
  udp::endpoint dest = listen;
  std::optional<udp::endpoint> peer;  // the server's transfer port, fixed by its first answer
  std::size_t blksize = 512;
  std::uint16_t expected = 1;
  std::uint64_t bytes = 0;
  int retransmits = 0;
  std::array<std::uint8_t, 65536> buf{};
  asio::steady_timer timer(ex);

  sock.send_to(asio::buffer(last), dest, 0, ec);
  for (;;) {
    if (storm.past_deadline()) {
      why = "deadline during the transfer";
      co_return std::nullopt;
    }
    udp::endpoint from;
    timer.expires_after(kPacketTimeout);
    boost::system::error_code rec;
    auto got =
        co_await (sock.async_receive_from(asio::buffer(buf), from, asio::redirect_error(asio::use_awaitable, rec)) ||
                  timer.async_wait(asio::use_awaitable));
    if (got.index() == 1) {
      if (++retransmits > kMaxRetransmits) {
        why = "no answer after " + std::to_string(kMaxRetransmits) + " retransmissions (block " +
              std::to_string(expected) + ")";
        co_return std::nullopt;
      }
      storm.retry(m, "tftp", expected == 1 && !peer ? "RRQ unanswered" : "retransmitted an ACK");
      sock.send_to(asio::buffer(last), dest, 0, ec);
      continue;
    }
    if (rec) continue;  // an ICMP error for an earlier datagram: the timeout covers it
    const std::size_t n = std::get<0>(got);
    if (peer && from != *peer) {
      // RFC 1350: a packet from another port is answered with an error and ignored.
      ramfleet::Bytes err;
      tftp::encode_error(tftp::ErrorCode::unknown_transfer_id, "unknown transfer id", err);
      sock.send_to(asio::buffer(err), from, 0, ec);
      continue;
    }
    auto parsed = tftp::parse_packet(ramfleet::ByteView(buf.data(), n));
    auto* pkt = std::get_if<tftp::Packet>(&parsed);
    if (!pkt) continue;
    if (!peer) {
      peer = from;
      dest = from;
    }
    if (auto* e = std::get_if<tftp::Error>(pkt)) {
      why = "server error " + std::string(tftp::error_code_name(e->code)) + ": " + e->message;
      co_return std::nullopt;
    }
    if (auto* oack = std::get_if<tftp::OptionAck>(pkt)) {
      if (expected != 1) continue;
      for (const auto& o : oack->options)
        if (tftp::iequals(o.name, "blksize")) blksize = static_cast<std::size_t>(std::stoul(o.value));
      last.clear();
      tftp::encode_ack(0, last);
      retransmits = 0;
      sock.send_to(asio::buffer(last), dest, 0, ec);
      continue;
    }
    if (auto* d = std::get_if<tftp::Data>(pkt)) {
      if (d->block != expected) {
        // A duplicate of the previous block: our ACK was lost; send it again.
        if (static_cast<std::uint16_t>(d->block + 1) == expected) sock.send_to(asio::buffer(last), dest, 0, ec);
        continue;
      }
      bytes += d->payload.size();
      last.clear();
      tftp::encode_ack(d->block, last);
      retransmits = 0;
      sock.send_to(asio::buffer(last), dest, 0, ec);
      if (d->payload.size() < blksize) co_return bytes;
      if (bytes > kMaxFile) {
        why = "file larger than 64 MiB";
        co_return std::nullopt;
      }
      ++expected;
    }
  }
}

}  // namespace storm
