#include "net/dhcp_service.hpp"

#include <arpa/inet.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <string>
#include <system_error>

#include "core/counter_metrics.hpp"
#include "core/log.hpp"

namespace ramfleet::net {

namespace {

dhcp::FileExists boot_file_lookup(const dhcp::Settings& settings) {
  std::vector<std::filesystem::path> roots = settings.boot_file_roots;
  if (roots.empty()) roots.emplace_back("/usr/lib/ipxe");
  return [roots](std::string_view name) {
    for (const auto& root : roots) {
      std::error_code ec;
      if (std::filesystem::is_regular_file(root / std::string(name), ec)) return true;
    }
    return false;
  };
}

// Datagrams handled per wake-up, and so the most leases in one group commit.
// Large, because the batch must grow with the fsync time: while one commit
// waits for the disk (ms, or 100s of ms when others load it) requests queue,
// and handling them all in the next turn keeps the server from falling behind
// (handling 1024 costs ~30 ms of CPU: the other services wait at most that).
constexpr int kDatagramsPerTurn = 1024;

[[noreturn]] void throw_errno(const std::string& what) {
  throw std::system_error(errno, std::generic_category(), what);
}

}  // namespace

DhcpService::DhcpService(boost::asio::io_context& io, const Interface& iface, dhcp::Settings settings,
                         dhcp::LeaseStore* leases)
    : io_(io),
      iface_(iface),
      leases_(settings.mode == dhcp::Mode::full ? leases : nullptr),
      server_(settings, leases, boot_file_lookup(settings)),
      buffer_(dhcp::kMaxPacketSize + 1) {}  // one byte more, so an oversized datagram shows as too long

const Counters& DhcpService::counters() const { return server_.counters(); }

void DhcpService::attach_metrics(metrics::Registry& registry) {
  decision_seconds_ = &registry.histogram("ramfleet_dhcp_decision_seconds",
                                          "Time to handle one DHCP datagram: parse, decide, build the reply "
                                          "(not the lease commit's disk sync).",
                                          metrics::buckets::fast_seconds());
  registry.add_collector([this](metrics::Exposition& out) {
    metrics::write_counters(out, server_.counters());
    const auto now =
        std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
    for (const auto& u : server_.pool_usage(now)) {
      const std::string pool = u.pool.first.str() + "-" + u.pool.last.str();
      out.gauge("ramfleet_dhcp_pool_addresses", "Addresses of a full-mode pool: used (bound lease) or free to offer.",
                {{"pool", pool}, {"state", "used"}}, static_cast<double>(u.used));
      out.gauge("ramfleet_dhcp_pool_addresses", "Addresses of a full-mode pool: used (bound lease) or free to offer.",
                {{"pool", pool}, {"state", "free"}}, static_cast<double>(u.free));
    }
  });
}

void DhcpService::open(Listener& l) {
  const std::string where = "DHCP on " + iface_.name + " port " + std::to_string(l.port);
  boost::system::error_code ec;
  l.socket.open(boost::asio::ip::udp::v4(), ec);
  if (ec) throw std::system_error(ec.value(), std::generic_category(), where + ": cannot open UDP socket");
  int fd = l.socket.native_handle();
  int one = 1;
  // Several ramfleet instances may serve different interfaces on one host.
  if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0) throw_errno(where + ": SO_REUSEADDR");
  if (setsockopt(fd, SOL_SOCKET, SO_BROADCAST, &one, sizeof one) != 0) throw_errno(where + ": SO_BROADCAST");
  if (setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof one) != 0) throw_errno(where + ": IP_PKTINFO");
  if (setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, iface_.name.c_str(), static_cast<socklen_t>(iface_.name.size())) != 0)
    throw_errno(where + ": SO_BINDTODEVICE (needs root or CAP_NET_RAW)");
  // Clients without an address broadcast to 255.255.255.255, so bind the wildcard address.
  l.socket.bind(boost::asio::ip::udp::endpoint(boost::asio::ip::address_v4::any(), l.port), ec);
  if (ec)
    throw std::system_error(ec.value(), std::generic_category(),
                            where + ": cannot bind (is another DHCP server running, or are you not root?)");
  l.socket.non_blocking(true, ec);
  // Room for the requests that arrive while one group commit is being fsynced
  // (a few ms): what does not fit is lost and the clients retry seconds later.
  const int bytes = 4 << 20;
  if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &bytes, sizeof bytes) != 0)
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bytes, sizeof bytes);
}

void DhcpService::start() {
  listeners_.push_back(std::make_unique<Listener>(Listener{boost::asio::ip::udp::socket(io_), dhcp::kServerPort}));
  if (server_.settings().mode == dhcp::Mode::proxy)
    listeners_.push_back(std::make_unique<Listener>(Listener{boost::asio::ip::udp::socket(io_), dhcp::kPxePort}));
  for (auto& l : listeners_) open(*l);
  for (auto& l : listeners_) arm(*l);
  log::info("dhcp.listening", {{"interface", iface_.name},
                               {"address", iface_.address.str()},
                               {"mode", server_.settings().mode == dhcp::Mode::full ? "full" : "proxy"},
                               {"ports", listeners_.size() == 2 ? "67,4011" : "67"}});
}

void DhcpService::arm(Listener& l) {
  l.socket.async_wait(boost::asio::ip::udp::socket::wait_read, [this, &l](const boost::system::error_code& ec) {
    if (ec == boost::asio::error::operation_aborted) return;
    if (ec) {
      server_.counters().inc("dhcp.socket_error");
      log::error("dhcp.socket_error", {{"error", ec.message()}});
    } else {
      drain(l);
    }
    arm(l);
  });
}

// Reads what is queued (bounded, so one busy socket cannot starve the loop).
// Group commit: the leases written while handling this turn's datagrams go to
// disk in one transaction (one fsync), and their ACKs are sent only after it
// is durable. Other replies (OFFER, NAK, INFORM's ACK) need nothing on disk
// and go out at once.
void DhcpService::drain(Listener& l) {
  const int fd = l.socket.native_handle();
  if (leases_ != nullptr) leases_->begin_batch();
  for (int i = 0; i < kDatagramsPerTurn; ++i) {
    sockaddr_in from{};
    iovec iov{buffer_.data(), buffer_.size()};
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(in_pktinfo))];
    msghdr msg{};
    msg.msg_name = &from;
    msg.msg_namelen = sizeof from;
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    ssize_t n = recvmsg(fd, &msg, MSG_DONTWAIT);
    if (n < 0) {
      if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
        server_.counters().inc("dhcp.socket_error");
        log::error("dhcp.recv_error", {{"error", std::strerror(errno)}});
      }
      break;
    }
    if (msg.msg_flags & MSG_TRUNC) n = static_cast<ssize_t>(buffer_.size());  // counted as too_long
    dhcp::Received in;
    in.payload = ByteView(buffer_.data(), static_cast<std::size_t>(n));
    in.local_port = l.port;
    in.source = Ipv4{ntohl(from.sin_addr.s_addr)};
    in.source_port = ntohs(from.sin_port);
    in.now = std::chrono::system_clock::now();
    const auto started = std::chrono::steady_clock::now();
    auto reply = server_.handle(in);
    if (decision_seconds_ != nullptr)
      decision_seconds_->observe(std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
    if (!reply) continue;
    if (reply->boots && reply->type == dhcp::MessageType::offer && on_boot_offer_) on_boot_offer_(reply->client);
    if (leases_ != nullptr && reply->type == dhcp::MessageType::ack) {
      held_acks_.push_back(std::move(*reply));
    } else {
      send(l, *reply);
    }
  }
  commit_and_send(l);
}

void DhcpService::commit_and_send(Listener& l) {
  if (leases_ == nullptr) return;
  try {
    leases_->commit_batch();
  } catch (const dhcp::StoreError& e) {
    // None of these leases is durable: their clients get no ACK and ask again.
    server_.counters().inc("dhcp.drop.store_error", held_acks_.size());
    log::error("dhcp.store_error", {{"error", e.what()}, {"acks_dropped", held_acks_.size()}});
    held_acks_.clear();
    return;
  }
  for (const auto& reply : held_acks_) send(l, reply);
  held_acks_.clear();
}

bool DhcpService::add_arp_entry(int fd, Ipv4 address, const MacAddress& mac) {
  arpreq req{};
  auto* pa = reinterpret_cast<sockaddr_in*>(&req.arp_pa);
  pa->sin_family = AF_INET;
  pa->sin_addr.s_addr = htonl(address.value());
  req.arp_ha.sa_family = ARPHRD_ETHER;
  std::memcpy(req.arp_ha.sa_data, mac.octets().data(), 6);
  req.arp_flags = ATF_COM;
  std::strncpy(req.arp_dev, iface_.name.c_str(), sizeof req.arp_dev - 1);
  return ioctl(fd, SIOCSARP, &req) == 0;
}

void DhcpService::send(Listener& l, const dhcp::Reply& reply) {
  const int fd = l.socket.native_handle();
  dhcp::Destination to = reply.to;
  if (to.kind == dhcp::Destination::Kind::unicast_to_hardware && !add_arp_entry(fd, to.address, to.mac)) {
    // Without the entry the kernel would ARP for an address nobody holds yet.
    server_.counters().inc("dhcp.arp_fallback_broadcast");
    log::debug("dhcp.arp_failed", {{"error", std::strerror(errno)}, {"address", to.address.str()}});
    to = dhcp::Destination{};
    to.port = reply.to.port;
  }
  sockaddr_in dest{};
  dest.sin_family = AF_INET;
  dest.sin_port = htons(to.port);
  dest.sin_addr.s_addr = htonl(to.kind == dhcp::Destination::Kind::broadcast ? INADDR_BROADCAST : to.address.value());

  // Source address and interface pinned: replies come from the address we advertise as server identifier.
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(in_pktinfo))]{};
  iovec iov{const_cast<std::uint8_t*>(reply.payload.data()), reply.payload.size()};
  msghdr msg{};
  msg.msg_name = &dest;
  msg.msg_namelen = sizeof dest;
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  cmsghdr* c = CMSG_FIRSTHDR(&msg);
  c->cmsg_level = IPPROTO_IP;
  c->cmsg_type = IP_PKTINFO;
  c->cmsg_len = CMSG_LEN(sizeof(in_pktinfo));
  in_pktinfo info{};
  info.ipi_ifindex = static_cast<int>(iface_.index);
  info.ipi_spec_dst.s_addr = htonl(iface_.address.value());
  std::memcpy(CMSG_DATA(c), &info, sizeof info);
  if (sendmsg(fd, &msg, MSG_DONTWAIT) < 0) {
    server_.counters().inc("dhcp.send_error");
    log::warn("dhcp.send_error", {{"error", std::strerror(errno)}, {"to", to.address.str()}, {"port", to.port}});
    return;
  }
  log::debug("dhcp.sent", {{"type", dhcp::name(reply.type)},
                           {"to", to.kind == dhcp::Destination::Kind::broadcast ? "broadcast" : to.address.str()},
                           {"port", to.port},
                           {"bytes", reply.payload.size()}});
}

}  // namespace ramfleet::net
