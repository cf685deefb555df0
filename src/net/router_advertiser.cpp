#include "net/router_advertiser.hpp"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <netinet/icmp6.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <system_error>

#include "core/log.hpp"

namespace ramfleet::net {

namespace {
constexpr std::uint8_t kRouterSolicitation = 133;
constexpr std::uint8_t kRouterAdvertisement = 134;
// The link-local address is "tentative" for ~1-2 s after the link comes up
// (duplicate address detection); binding fails until then.
constexpr int kBindAttempts = 20;
constexpr std::chrono::milliseconds kBindRetry{250};

std::optional<std::array<std::uint8_t, 16>> link_local_of(const std::string& name) {
  ifaddrs* raw = nullptr;
  if (getifaddrs(&raw) != 0) return std::nullopt;
  std::unique_ptr<ifaddrs, decltype(&freeifaddrs)> list(raw, &freeifaddrs);
  for (ifaddrs* a = raw; a != nullptr; a = a->ifa_next) {
    if (a->ifa_addr == nullptr || a->ifa_addr->sa_family != AF_INET6 || name != a->ifa_name) continue;
    auto* sin6 = reinterpret_cast<sockaddr_in6*>(a->ifa_addr);
    if (!IN6_IS_ADDR_LINKLOCAL(&sin6->sin6_addr)) continue;
    std::array<std::uint8_t, 16> out{};
    std::memcpy(out.data(), &sin6->sin6_addr, 16);
    return out;
  }
  return std::nullopt;
}

constexpr std::array<std::uint8_t, 16> kAllNodes{0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
constexpr std::array<std::uint8_t, 16> kAllRouters{0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2};
}  // namespace

Bytes router_advertisement(const MacAddress& mac) {
  Bytes out;
  ByteWriter w(out);
  w.u8(kRouterAdvertisement);
  w.u8(0);   // code
  w.u16(0);  // checksum: computed by the kernel for ICMPv6 raw sockets
  w.u8(64);  // current hop limit
  w.u8(0);   // M=0, O=0: no DHCPv6 either
  w.u16(0);  // router lifetime 0: not a default router
  w.u32(0);  // reachable time: unspecified
  w.u32(0);  // retrans timer: unspecified
  w.u8(1);   // option: source link-layer address
  w.u8(1);   // length in units of 8 bytes
  w.bytes(mac.octets());
  return out;
}

RouterAdvertiser::RouterAdvertiser(boost::asio::io_context& io, const Interface& iface)
    : iface_(iface), socket_(io), retry_(io), pace_(io), ra_(router_advertisement(iface.mac)) {}

void RouterAdvertiser::start() {
  auto ll = link_local_of(iface_.name);
  if (!ll) {
    log::warn("ra.idle", {{"interface", iface_.name}, {"reason", "no IPv6 link-local address"}});
    return;
  }
  link_local_ = *ll;
  const std::string where = "router advertisements on " + iface_.name;
  int fd = ::socket(AF_INET6, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_ICMPV6);
  if (fd < 0) throw std::system_error(errno, std::generic_category(), where + ": raw ICMPv6 socket (needs root)");
  boost::system::error_code ec;
  socket_.assign(boost::asio::ip::icmp::v6(), fd, ec);
  if (ec) {
    ::close(fd);
    throw std::system_error(ec.value(), std::generic_category(), where + ": " + ec.message());
  }
  auto check = [&](int rc, const char* what) {
    if (rc != 0) throw std::system_error(errno, std::generic_category(), where + ": " + what);
  };
  check(setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, iface_.name.c_str(), static_cast<socklen_t>(iface_.name.size())),
        "SO_BINDTODEVICE");
  icmp6_filter filter;
  ICMP6_FILTER_SETBLOCKALL(&filter);
  ICMP6_FILTER_SETPASS(kRouterSolicitation, &filter);
  check(setsockopt(fd, IPPROTO_ICMPV6, ICMP6_FILTER, &filter, sizeof filter), "ICMP6_FILTER");
  int hops = 255;  // RFC 4861: neighbour discovery messages carry hop limit 255
  check(setsockopt(fd, IPPROTO_IPV6, IPV6_MULTICAST_HOPS, &hops, sizeof hops), "IPV6_MULTICAST_HOPS");
  check(setsockopt(fd, IPPROTO_IPV6, IPV6_UNICAST_HOPS, &hops, sizeof hops), "IPV6_UNICAST_HOPS");
  unsigned ifindex = iface_.index;
  check(setsockopt(fd, IPPROTO_IPV6, IPV6_MULTICAST_IF, &ifindex, sizeof ifindex), "IPV6_MULTICAST_IF");
  ipv6_mreq join{};
  std::memcpy(&join.ipv6mr_multiaddr, kAllRouters.data(), 16);
  join.ipv6mr_interface = iface_.index;
  check(setsockopt(fd, IPPROTO_IPV6, IPV6_ADD_MEMBERSHIP, &join, sizeof join), "join ff02::2");
  arm();
  try_bind(0);
}

void RouterAdvertiser::try_bind(int attempt) {
  sockaddr_in6 local{};
  local.sin6_family = AF_INET6;
  std::memcpy(&local.sin6_addr, link_local_.data(), 16);
  local.sin6_scope_id = iface_.index;
  if (::bind(socket_.native_handle(), reinterpret_cast<sockaddr*>(&local), sizeof local) == 0) {
    log::info("ra.listening", {{"interface", iface_.name}});
    send_to(kAllNodes);  // one unsolicited RA, for clients that solicited before we started
    counters_.inc("ra.tx.multicast");
    pacer_.unsolicited_sent(std::chrono::steady_clock::now());
    return;
  }
  if (errno != EADDRNOTAVAIL || attempt + 1 >= kBindAttempts) {
    log::warn("ra.idle", {{"interface", iface_.name}, {"reason", std::strerror(errno)}});
    socket_.close();
    return;
  }
  retry_.expires_after(kBindRetry);
  retry_.async_wait([this, attempt](const boost::system::error_code& ec) {
    if (!ec) try_bind(attempt + 1);
  });
}

void RouterAdvertiser::arm() {
  socket_.async_wait(boost::asio::ip::icmp::socket::wait_read, [this](const boost::system::error_code& ec) {
    if (ec) return;  // closed or cancelled
    drain();
    arm();
  });
}

void RouterAdvertiser::drain() {
  std::array<std::uint8_t, 1500> buf{};
  for (int i = 0; i < 32; ++i) {
    sockaddr_in6 from{};
    socklen_t len = sizeof from;
    ssize_t n = recvfrom(socket_.native_handle(), buf.data(), buf.size(), MSG_DONTWAIT,
                         reinterpret_cast<sockaddr*>(&from), &len);
    if (n < 0) return;
    if (n < 8 || buf[0] != kRouterSolicitation || buf[1] != 0) {
      counters_.inc("ra.drop.malformed");
      continue;
    }
    counters_.inc("ra.rx.solicitation");
    std::array<std::uint8_t, 16> source{};
    std::memcpy(source.data(), &from.sin6_addr, 16);
    // A solicitation from the unspecified address is answered to all nodes (RFC 4861 6.2.6).
    const bool unspecified = IN6_IS_ADDR_UNSPECIFIED(&from.sin6_addr);
    const auto decision = pacer_.on_solicitation(!unspecified, std::chrono::steady_clock::now());
    using Kind = dhcp::RaPacer::Decision::Kind;
    switch (decision.kind) {
      case Kind::unicast_now:
        counters_.inc("ra.tx.unicast");
        send_to(source);
        break;
      case Kind::multicast_now:
        counters_.inc("ra.tx.multicast");
        send_to(kAllNodes);
        break;
      case Kind::multicast_later:
        schedule_multicast(decision.at);
        break;
      case Kind::coalesced:
        counters_.inc("ra.coalesced");
        break;
    }
  }
}

void RouterAdvertiser::schedule_multicast(dhcp::RaPacer::TimePoint at) {
  pace_.expires_at(at);
  pace_.async_wait([this](const boost::system::error_code& ec) {
    if (ec || !socket_.is_open()) return;
    if (pacer_.due(std::chrono::steady_clock::now())) {
      counters_.inc("ra.tx.multicast");
      send_to(kAllNodes);
    } else if (auto again = pacer_.scheduled()) {
      schedule_multicast(*again);  // woke early: wait for the pacer's time
    }
  });
}

void RouterAdvertiser::send_to(const std::array<std::uint8_t, 16>& address) {
  sockaddr_in6 to{};
  to.sin6_family = AF_INET6;
  std::memcpy(&to.sin6_addr, address.data(), 16);
  to.sin6_scope_id = iface_.index;
  if (sendto(socket_.native_handle(), ra_.data(), ra_.size(), MSG_DONTWAIT, reinterpret_cast<sockaddr*>(&to),
             sizeof to) < 0) {
    log::warn("ra.send_error", {{"error", std::strerror(errno)}});
    return;
  }
  ++sent_;
  log::debug("ra.sent", {{"interface", iface_.name}, {"count", sent_}});
}

}  // namespace ramfleet::net
