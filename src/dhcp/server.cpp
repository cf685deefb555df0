#include "dhcp/server.hpp"

#include <cmath>
#include <string>

#include "core/log.hpp"

namespace ramfleet::dhcp {

struct Server::Context {
  const Received& in;
  Packet packet;
  ClientRequest client;
  std::int64_t now = 0;
};

namespace {
std::int64_t unix_seconds(std::chrono::system_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}
// Options are length-limited to 255 per instance; a boot file longer than the
// 128-byte file field goes only in option 67.
constexpr std::size_t kFileFieldMax = 127;
}  // namespace

Server::Server(Settings settings, LeaseStore* leases, FileExists boot_file_exists)
    : settings_(std::move(settings)),
      boot_file_exists_(std::move(boot_file_exists)),
      book_(settings_, settings_.mode == Mode::full ? leases : nullptr),
      per_mac_(settings_.per_mac_limit, settings_.tracked_macs),
      // Starts full at the epoch: the first packets, whenever they come, may burst.
      global_(settings_.global_limit, {}),
      pool_exhausted_log_(settings_.warn_interval),
      rate_limited_log_(settings_.warn_interval) {
  if (!boot_file_exists_) boot_file_exists_ = [](std::string_view) { return true; };
}

std::nullopt_t Server::drop(const Context& cx, std::string_view reason) {
  counters_.inc(std::string("dhcp.drop.") + std::string(reason));
  log::debug(
      "dhcp.drop",
      {{"reason", reason}, {"type", name(cx.client.type)}, {"mac", cx.client.mac.str()}, {"from", cx.in.source.str()}});
  return std::nullopt;
}

// Per-MAC first, so that one noisy client spends its own tokens and not the
// shared ones; what passes spends a global token (spoofed MACs meet that one).
//
// In a boot storm the global bucket runs dry. A DISCOVER then stops while a
// tenth of the burst is left, which goes to REQUESTs: a REQUEST completes an
// exchange whose OFFER (an address held for it) was already paid for, while a
// dropped DISCOVER costs its client only a retransmission (PXE ROMs send it
// again after 4, 8, 16 and 32 s; iPXE after 1 s, doubling). Nothing queues:
// what the buckets refuse is dropped and counted (docs/scale.md, "Admission
// control").
bool Server::admit(const Context& cx) {
  using Verdict = KeyedRateLimiter<MacAddress, std::chrono::system_clock>::Verdict;
  std::string_view which;
  switch (per_mac_.take(cx.client.mac, cx.in.now)) {
    case Verdict::allowed:
      if (cx.client.type == MessageType::discover) {
        if (global_.take_leaving(cx.in.now, std::floor(settings_.global_limit.burst / 10))) return true;
        which = "global";
        break;
      }
      if (global_.take(cx.in.now)) return true;
      which = "global";
      break;
    case Verdict::limited:
      which = "mac";
      break;
    case Verdict::table_full:
      which = "mac_table_full";
      break;
  }
  counters_.inc("dhcp.drop.rate_limited");
  counters_.inc(std::string("dhcp.drop.rate_limited.") + std::string(which));
  if (auto held_back = rate_limited_log_.admit(cx.in.now))
    log::warn(
        "dhcp.rate_limited",
        {{"limit", which}, {"mac", cx.client.mac.str()}, {"from", cx.in.source.str()}, {"suppressed", *held_back}});
  return false;
}

std::optional<Reply> Server::handle(const Received& in) {
  counters_.inc("dhcp.rx.packets");
  ParseResult parsed = parse(in.payload);
  if (auto* err = std::get_if<ParseError>(&parsed)) {
    counters_.inc(std::string("dhcp.drop.") + std::string(name(*err)));
    log::debug("dhcp.drop", {{"reason", name(*err)}, {"from", in.source.str()}, {"bytes", in.payload.size()}});
    return std::nullopt;
  }
  Context cx{in, std::move(std::get<Packet>(parsed)), {}, unix_seconds(in.now)};
  if (cx.packet.op != 1) return drop(cx, "not_a_request");
  if (cx.packet.htype != 1 || cx.packet.hlen != 6) return drop(cx, "not_ethernet");
  auto client = decode_request(cx.packet);
  if (!client) return drop(cx, "bootp_unsupported");
  cx.client = std::move(*client);
  counters_.inc(std::string("dhcp.rx.") + std::string(name(cx.client.type)));
  if (settings_.mode == Mode::off) return drop(cx, "dhcp_off");
  if (!admit(cx)) return std::nullopt;
  if (in.local_port == kPxePort) return handle_boot_server(cx);
  if (settings_.mode == Mode::proxy) return handle_proxy(cx);
  return handle_full(cx);
}

Packet Server::reply_base(const Context& cx, MessageType type) const {
  Packet r;
  r.op = 2;
  r.htype = cx.packet.htype;
  r.hlen = cx.packet.hlen;
  r.xid = cx.packet.xid;
  r.flags = cx.packet.flags;
  r.giaddr = cx.packet.giaddr;
  r.chaddr = cx.packet.chaddr;
  r.set_u8(option::message_type, static_cast<std::uint8_t>(type));
  r.set_address(option::server_identifier, settings_.server_address);
  return r;
}

void Server::add_subnet_options(Packet& r, const SubnetSettings& s) const {
  r.set_address(option::subnet_mask, s.subnet.netmask());
  r.set_address(option::broadcast_address, s.subnet.broadcast());
  if (s.router) r.set_address(option::router, *s.router);
  if (!s.dns_servers.empty()) {
    Bytes b;
    ByteWriter w(b);
    for (auto d : s.dns_servers) w.u32(d.value());
    r.set(option::dns_servers, std::move(b));
  }
  if (!s.domain_name.empty()) r.set(option::domain_name, s.domain_name);
}

// Adds next-server, boot file and the PXE/iPXE options. False when the client
// gets no boot information.
bool Server::add_boot_options(Packet& r, const Context& cx) {
  BootDecision d = decide_boot(cx.client, settings_, boot_file_exists_);
  if (d.kind == BootDecision::Kind::none) {
    if (d.reason != "not_pxe") counters_.inc("dhcp.boot.none." + d.reason);
    return false;
  }
  counters_.inc("dhcp.boot." + d.reason);
  // next-server even for http:// files: iPXE only takes a ProxyDHCP offer or
  // ACK as one when it has both siaddr and a boot file (dhcp_has_pxeopts).
  r.siaddr = settings_.server_address;
  if (d.kind == BootDecision::Kind::tftp) r.set(option::tftp_server_name, settings_.server_address.str());
  if (d.file.size() <= kFileFieldMax) r.file = d.file;
  r.set(option::bootfile_name, d.file);
  std::string vendor = d.vendor_class;
  if (vendor.empty() && cx.client.is_pxe()) vendor = "PXEClient";  // iPXE recognises proxy offers by it
  if (!vendor.empty()) r.set(option::vendor_class, vendor);
  if (vendor == "PXEClient") {
    // PXE_DISCOVERY_CONTROL = 8: no boot-server discovery, boot the file in this packet.
    r.set(option::vendor_specific, encode_suboptions({{option::pxe_discovery_control, {8}}}));
  }
  if (cx.client.is_ipxe()) {
    // no-pxedhcp: iPXE otherwise waits ~3 s for ProxyDHCP offers.
    r.set(option::ipxe_encapsulated, encode_suboptions({{option::ipxe_no_pxedhcp, {1}}}));
  }
  log::info("dhcp.boot", {{"mac", cx.client.mac.str()},
                          {"type", name(cx.client.type)},
                          {"arch", cx.client.arch ? std::to_string(*cx.client.arch) : std::string("-")},
                          {"decision", d.reason},
                          {"file", d.file}});
  return true;
}

std::optional<Reply> Server::finish(Context& cx, Packet reply, Destination to) {
  // RFC 3046: a relay agent's option 82 comes back unchanged, last.
  if (const Bytes* agent = cx.packet.find(option::relay_agent_information); agent && !cx.packet.giaddr.is_zero())
    reply.set(option::relay_agent_information, *agent);
  Reply out;
  out.type = *reply.message_type();
  out.payload = serialize(reply);
  std::size_t limit = std::max<std::size_t>(576, cx.client.max_message_size.value_or(576)) - 28;  // IP + UDP
  if (out.payload.size() > limit) return drop(cx, "reply_too_large");
  out.to = to;
  out.client = cx.client.mac;
  out.boots = reply.find(option::bootfile_name) != nullptr;  // set by add_boot_options only
  counters_.inc(std::string("dhcp.tx.") + std::string(name(out.type)));
  return out;
}

std::vector<PoolUsage> Server::pool_usage(std::int64_t now) const {
  std::vector<PoolUsage> out;
  if (settings_.mode != Mode::full) return out;
  for (const auto& subnet : settings_.subnets)
    for (const auto& pool : subnet.pools) out.push_back(book_.usage(subnet, pool, now));
  return out;
}

// --- proxy mode -------------------------------------------------------------

std::optional<Reply> Server::handle_proxy(Context& cx) {
  // PXE spec: a proxy OFFERs on 67; the client's REQUEST for boot information
  // comes to 4011. A REQUEST on 67 belongs to the DHCP server that gave the
  // address -- which may share our IP when it runs on the same host, so even a
  // REQUEST naming our address is not ours: an ACK with no address would race
  // the real one.
  if (cx.client.type != MessageType::discover) return drop(cx, "proxy_ignores_type");
  if (!cx.client.is_pxe() && !cx.client.is_http() && !cx.client.is_ipxe()) return drop(cx, "not_pxe_client");
  Packet r = reply_base(cx, MessageType::offer);
  r.ciaddr = cx.packet.ciaddr;
  if (!add_boot_options(r, cx)) return drop(cx, "no_boot_file");
  Destination to;
  if (!cx.packet.giaddr.is_zero()) {
    to = {Destination::Kind::unicast, cx.packet.giaddr, kServerPort, {}};
  } else if (!cx.packet.ciaddr.is_zero()) {
    to = {Destination::Kind::unicast, cx.packet.ciaddr, kClientPort, {}};
  }  // else broadcast: the client has no address and we offer none
  return finish(cx, std::move(r), to);
}

// PXE boot server on 4011: the client has an address and asks us directly.
std::optional<Reply> Server::handle_boot_server(Context& cx) {
  const auto type = cx.client.type;
  if (type != MessageType::request && type != MessageType::inform) return drop(cx, "boot_server_ignores_type");
  if (!cx.client.is_pxe() && !cx.client.is_http() && !cx.client.is_ipxe()) return drop(cx, "not_pxe_client");
  Packet r = reply_base(cx, MessageType::ack);
  r.ciaddr = cx.packet.ciaddr;
  if (!add_boot_options(r, cx)) return drop(cx, "no_boot_file");
  Destination to;
  Ipv4 dest = !cx.in.source.is_zero() ? cx.in.source : cx.packet.ciaddr;
  if (!dest.is_zero()) to = {Destination::Kind::unicast, dest, cx.in.source_port, {}};
  return finish(cx, std::move(r), to);
}

// --- full mode --------------------------------------------------------------

const SubnetSettings* Server::subnet_for(const Context& cx) const {
  // Relayed: the relay's address says which network the client is on.
  Ipv4 key = !cx.packet.giaddr.is_zero() ? cx.packet.giaddr : settings_.server_address;
  for (const auto& s : settings_.subnets)
    if (s.subnet.contains(key)) return &s;
  if (cx.packet.giaddr.is_zero() && !settings_.subnets.empty()) return &settings_.subnets.front();
  return nullptr;
}

Destination Server::full_mode_destination(const Context& cx, const Packet& reply) const {
  // RFC 2131 4.1, in this order.
  if (!cx.packet.giaddr.is_zero()) return {Destination::Kind::unicast, cx.packet.giaddr, kServerPort, {}};
  if (reply.message_type() == MessageType::nak) return {};
  if (!cx.packet.ciaddr.is_zero()) return {Destination::Kind::unicast, cx.packet.ciaddr, kClientPort, {}};
  if (cx.packet.broadcast_flag() || reply.yiaddr.is_zero()) return {};
  return {Destination::Kind::unicast_to_hardware, reply.yiaddr, kClientPort, cx.client.mac};
}

std::optional<Reply> Server::handle_full(Context& cx) {
  const SubnetSettings* subnet = subnet_for(cx);
  if (subnet == nullptr) return drop(cx, cx.packet.giaddr.is_zero() ? "no_subnet" : "no_subnet_for_relay");
  switch (cx.client.type) {
    case MessageType::discover:
      return discover(cx, *subnet);
    case MessageType::request:
      return request(cx, *subnet);
    case MessageType::inform:
      return inform(cx, *subnet);
    case MessageType::decline:
      decline(cx);
      return std::nullopt;
    case MessageType::release:
      release(cx);
      return std::nullopt;
    default:
      return drop(cx, "server_message_type");  // OFFER/ACK/NAK sent to a server
  }
}

std::optional<Reply> Server::discover(Context& cx, const SubnetSettings& subnet) {
  auto address = book_.choose(subnet, cx.client.mac, cx.client.requested_address, cx.now);
  if (!address) {
    if (auto held_back = pool_exhausted_log_.admit(cx.in.now))
      log::warn("dhcp.pool_exhausted",
                {{"subnet", subnet.subnet.str()}, {"mac", cx.client.mac.str()}, {"suppressed", *held_back}});
    return drop(cx, "pool_exhausted");
  }
  // No ping probe before offering (lab-notes: ~3 s per new lease). DECLINE covers conflicts.
  book_.hold_offer(*address, cx.client.mac, cx.now + settings_.offer_hold.count());
  Packet r = reply_base(cx, MessageType::offer);
  r.yiaddr = *address;
  r.set_u32(option::lease_time, static_cast<std::uint32_t>(subnet.lease_time.count()));
  add_subnet_options(r, subnet);
  if (const Reservation* res = book_.reservation_of(cx.client.mac); res && !res->hostname.empty())
    r.set(option::hostname, res->hostname);
  add_boot_options(r, cx);
  Destination to = full_mode_destination(cx, r);
  return finish(cx, std::move(r), to);
}

std::optional<Reply> Server::nak(Context& cx, std::string_view why) {
  counters_.inc(std::string("dhcp.nak.") + std::string(why));
  log::info("dhcp.nak", {{"mac", cx.client.mac.str()}, {"reason", why}});
  Packet r = reply_base(cx, MessageType::nak);
  r.set(option::message, why);
  if (!cx.packet.giaddr.is_zero()) r.flags |= kBroadcastFlag;  // RFC 2131 4.3.2: the relay broadcasts it
  Destination to = full_mode_destination(cx, r);
  return finish(cx, std::move(r), to);
}

std::optional<Reply> Server::ack_lease(Context& cx, const SubnetSettings& subnet, Ipv4 address) {
  Lease lease;
  lease.address = address;
  lease.mac = cx.client.mac;
  lease.client_id = cx.client.client_id;
  const Reservation* res = book_.reservation_of(cx.client.mac);
  if (res) lease.hostname = res->hostname;
  lease.state = LeaseState::bound;
  lease.expires_at = cx.now + subnet.lease_time.count();
  try {
    book_.commit(lease);  // durable before the ACK exists
  } catch (const StoreError& e) {
    log::error("dhcp.store_error", {{"error", e.what()}, {"mac", cx.client.mac.str()}});
    return drop(cx, "store_error");
  }
  const auto t = static_cast<std::uint32_t>(subnet.lease_time.count());
  Packet r = reply_base(cx, MessageType::ack);
  r.ciaddr = cx.packet.ciaddr;
  r.yiaddr = address;
  r.set_u32(option::lease_time, t);
  r.set_u32(option::renewal_time, t / 2);
  r.set_u32(option::rebinding_time, static_cast<std::uint32_t>(std::uint64_t{t} * 7 / 8));
  add_subnet_options(r, subnet);
  if (res && !res->hostname.empty()) r.set(option::hostname, res->hostname);
  add_boot_options(r, cx);
  log::info("dhcp.lease", {{"mac", cx.client.mac.str()}, {"address", address.str()}, {"seconds", t}});
  Destination to = full_mode_destination(cx, r);
  return finish(cx, std::move(r), to);
}

std::optional<Reply> Server::request(Context& cx, const SubnetSettings& subnet) {
  const auto& c = cx.client;
  if (c.server_identifier) {
    // SELECTING: the client answers one OFFER; if not ours, our offer is void.
    if (*c.server_identifier != settings_.server_address) {
      book_.drop_offer(c.mac);
      return drop(cx, "other_server");
    }
    if (!c.requested_address) return drop(cx, "request_without_address");
    if (!book_.acceptable(subnet, *c.requested_address, c.mac, cx.now)) return nak(cx, "address not available");
    return ack_lease(cx, subnet, *c.requested_address);
  }
  if (c.requested_address && cx.packet.ciaddr.is_zero()) {
    // INIT-REBOOT: a client that remembers an address. We are authoritative for
    // our subnets: a wrong network or someone else's address gets a NAK.
    if (!subnet.subnet.contains(*c.requested_address)) return nak(cx, "wrong network");
    if (!book_.acceptable(subnet, *c.requested_address, c.mac, cx.now)) return nak(cx, "address not available");
    // RFC 2131 4.3.2: with no record of the client, stay silent. An ACK here
    // would let anyone take the pool with one spoofed REQUEST per address and
    // no DISCOVER; a real client whose lease we lost times out and starts over
    // with DISCOVER. (A NAK above gives nothing away, so it stays.)
    if (book_.lease_of(c.mac) == nullptr && book_.reservation_of(c.mac) == nullptr)
      return drop(cx, "init_reboot_unknown_client");
    return ack_lease(cx, subnet, *c.requested_address);
  }
  if (!cx.packet.ciaddr.is_zero()) {
    // RENEWING (unicast) or REBINDING (broadcast): extend the lease on ciaddr.
    if (!book_.acceptable(subnet, cx.packet.ciaddr, c.mac, cx.now)) return nak(cx, "lease not renewable");
    return ack_lease(cx, subnet, cx.packet.ciaddr);
  }
  return drop(cx, "request_without_address");
}

std::optional<Reply> Server::inform(Context& cx, const SubnetSettings& subnet) {
  // The client configured its address itself and wants the rest (RFC 2131 3.4).
  Packet r = reply_base(cx, MessageType::ack);
  r.ciaddr = cx.packet.ciaddr;
  add_subnet_options(r, subnet);
  add_boot_options(r, cx);
  Destination to = full_mode_destination(cx, r);
  if (to.kind == Destination::Kind::broadcast && !cx.in.source.is_zero())
    to = {Destination::Kind::unicast, cx.in.source, kClientPort, {}};
  return finish(cx, std::move(r), to);
}

void Server::decline(Context& cx) {
  const auto& c = cx.client;
  if (c.server_identifier && *c.server_identifier != settings_.server_address) {
    drop(cx, "other_server");
    return;
  }
  if (!c.requested_address) {
    drop(cx, "decline_without_address");
    return;
  }
  const Lease* l = book_.lease_at(*c.requested_address);
  if (l == nullptr || l->mac != c.mac || l->state != LeaseState::bound) {
    drop(cx, "decline_not_owner");
    return;
  }
  Lease q = *l;
  q.state = LeaseState::declined;
  q.expires_at = cx.now + settings_.decline_hold.count();
  try {
    book_.commit(q);
  } catch (const StoreError& e) {
    log::error("dhcp.store_error", {{"error", e.what()}});
    drop(cx, "store_error");
    return;
  }
  counters_.inc("dhcp.declined");
  log::warn("dhcp.decline", {{"mac", c.mac.str()}, {"address", q.address.str()}});
}

void Server::release(Context& cx) {
  const auto& c = cx.client;
  const Lease* l = book_.lease_at(cx.packet.ciaddr);
  if (l == nullptr || l->mac != c.mac || l->state != LeaseState::bound) {
    drop(cx, "release_not_owner");
    return;
  }
  Lease r = *l;
  r.state = LeaseState::released;
  r.expires_at = cx.now;
  try {
    book_.commit(r);
  } catch (const StoreError& e) {
    log::error("dhcp.store_error", {{"error", e.what()}});
    drop(cx, "store_error");
    return;
  }
  counters_.inc("dhcp.released");
  log::info("dhcp.release", {{"mac", c.mac.str()}, {"address", r.address.str()}});
}

}  // namespace ramfleet::dhcp
