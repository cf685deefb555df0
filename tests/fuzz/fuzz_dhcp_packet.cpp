// libFuzzer: arbitrary bytes through the DHCP codec and both server modes.
// Whatever parses must serialise and parse again to the same packet, and the
// server must never crash or answer with something it cannot parse itself.
#include <cstdint>
#include <cstdlib>
#include <memory>

#include "dhcp/packet.hpp"
#include "dhcp/server.hpp"
#include "store/sqlite_lease_store.hpp"

using namespace ramfleet;
using namespace ramfleet::dhcp;

namespace {
Settings make_settings(Mode mode) {
  Settings s;
  s.mode = mode;
  s.server_address = Ipv4(10, 0, 0, 1);
  SubnetSettings sub;
  sub.subnet = Ipv4Subnet{Ipv4(10, 0, 0, 0), 24};
  sub.pools = {{Ipv4(10, 0, 0, 100), Ipv4(10, 0, 0, 110)}};
  SubnetSettings relayed;
  relayed.subnet = Ipv4Subnet{Ipv4(192, 168, 0, 0), 16};
  relayed.pools = {{Ipv4(192, 168, 1, 0), Ipv4(192, 168, 1, 255)}};
  s.subnets = {sub, relayed};
  s.reservations = {{*MacAddress::parse("52:54:00:00:00:01"), Ipv4(10, 0, 0, 5), "r"}};
  s.offer_hold = std::chrono::seconds{5};
  return s;
}

void check_reply(const std::optional<Reply>& r) {
  if (!r) return;
  if (!std::holds_alternative<Packet>(parse(r->payload))) std::abort();
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // An in-memory SQLite store: the real store code, no disk I/O per input.
  static auto leases = std::make_unique<store::SqliteLeaseStore>(":memory:");
  static Server full(make_settings(Mode::full), leases.get(), [](std::string_view n) { return n != "ipxe.efi"; });
  static Server proxy(make_settings(Mode::proxy), nullptr, nullptr);
  static std::int64_t clock = 1'700'000'000;
  clock += 7;  // time moves so offers and leases expire across inputs

  ByteView in(data, size);
  ParseResult parsed = parse(in);
  if (auto* p = std::get_if<Packet>(&parsed)) {
    ParseResult again = parse(serialize(*p));
    // Overloaded packets are serialised without overload, so only compare the rest.
    if (p->find(option::overload) == nullptr) {
      if (!std::holds_alternative<Packet>(again) || std::get<Packet>(again) != *p) std::abort();
    }
  }
  std::chrono::system_clock::time_point now{std::chrono::seconds{clock}};
  Ipv4 source(10, 0, 0, static_cast<std::uint8_t>(size));
  check_reply(full.handle(Received{in, kServerPort, source, kClientPort, now}));
  check_reply(proxy.handle(Received{in, kServerPort, Ipv4{}, kClientPort, now}));
  check_reply(proxy.handle(Received{in, kPxePort, source, kPxePort, now}));
  return 0;
}
