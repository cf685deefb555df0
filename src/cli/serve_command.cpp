// `ramfleet serve`: one process, one event loop, every boot service.
// Order of start-up follows a boot: DHCP (and IPv6 RA) -> TFTP -> HTTP.
#include <boost/asio/io_context.hpp>
#include <iostream>
#include <memory>
#include <optional>

#include "auth/admin_token.hpp"
#include "auth/credential_file.hpp"
#include "cli/commands.hpp"
#include "cli/privileges.hpp"
#include "cli/serve_lifecycle.hpp"
#include "core/counter_metrics.hpp"
#include "core/duration.hpp"
#include "core/log.hpp"
#include "core/metrics.hpp"
#include "net/dhcp_address_owners.hpp"
#include "net/dhcp_service.hpp"
#include "net/etcd_service.hpp"
#include "net/http_server.hpp"
#include "net/interface.hpp"
#include "net/operator_server.hpp"
#include "net/router_advertiser.hpp"
#include "net/tftp_service.hpp"
#include "settings/serve_reload.hpp"
#include "settings/serve_settings.hpp"
#include "store/sqlite_lease_store.hpp"

namespace ramfleet::cli {
namespace {

struct ServeFlags {
  std::string interface;
  std::string dhcp_mode;
  std::vector<std::string> pools;
  std::string router;
  std::vector<std::string> reservations;
  std::string state_dir;
  std::string config_dir;
  std::vector<std::string> tftp_roots;
  int tftp_port = 0;
  int http_port = 0;
  std::string listen;
  std::string api_listen;  // --api-listen ADDR:PORT | off
  bool no_ra = false;
  std::string user;  // --user: drop root to this user once everything is bound and open
  std::string shutdown_grace;
};

int fail(const std::string& message) {
  std::cerr << "ramfleet serve: " << message << "\n";
  return 2;
}

// Flags win over ramfleet.yaml; only flags the operator gave are applied.
std::optional<std::string> apply_flags(const ServeFlags& f, settings::ServeSettings& s) {
  if (!f.interface.empty()) s.interface = f.interface;
  if (!f.state_dir.empty()) s.state_dir = f.state_dir;
  if (f.dhcp_mode == "proxy") s.dhcp.mode = dhcp::Mode::proxy;
  if (f.dhcp_mode == "full") s.dhcp.mode = dhcp::Mode::full;
  if (f.dhcp_mode == "off") s.dhcp.mode = dhcp::Mode::off;
  if (!f.tftp_roots.empty()) s.tftp.roots.assign(f.tftp_roots.begin(), f.tftp_roots.end());
  if (f.tftp_port > 0) s.tftp.port = static_cast<std::uint16_t>(f.tftp_port);
  if (f.tftp_port < 0) s.tftp.enabled = false;
  if (f.http_port > 0) s.http.port = static_cast<std::uint16_t>(f.http_port);
  if (f.http_port < 0) s.http.enabled = false;
  if (f.no_ra) s.dhcp.answer_router_solicitations = false;
  if (!f.shutdown_grace.empty()) {
    auto g = parse_duration(f.shutdown_grace);
    if (!g) return "--shutdown-grace must be a duration like 10s or 500ms, got '" + f.shutdown_grace + "'";
    s.shutdown_grace = *g;
  }
  if (f.api_listen == "off") {
    s.api.enabled = false;
  } else if (!f.api_listen.empty()) {
    auto l = http::parse_api_listen(f.api_listen);
    if (!l) return "--api-listen must be ADDRESS:PORT (IPv4, like 127.0.0.1:9443) or off, got '" + f.api_listen + "'";
    s.api.enabled = true;
    s.api.listen = *l;
  }
  if (!f.listen.empty()) {
    auto ip = Ipv4::parse(f.listen);
    if (!ip) return "--listen must be an IPv4 address, got '" + f.listen + "'";
    s.listen_address = *ip;
  }
  for (const auto& r : f.reservations) {
    // MAC=IP[,hostname]
    auto eq = r.find('=');
    auto comma = r.find(',', eq == std::string::npos ? 0 : eq);
    auto mac = eq == std::string::npos ? std::nullopt : MacAddress::parse(r.substr(0, eq));
    auto ip = eq == std::string::npos
                  ? std::nullopt
                  : Ipv4::parse(r.substr(eq + 1, comma == std::string::npos ? std::string::npos : comma - eq - 1));
    if (!mac || !ip) return "--reserve must look like 52:54:00:12:34:56=10.0.0.10[,hostname], got '" + r + "'";
    s.dhcp.reservations.push_back({*mac, *ip, comma == std::string::npos ? "" : r.substr(comma + 1)});
  }
  return std::nullopt;
}

// The interface's own subnet is always served in full mode; --pool and
// --router apply to it.
std::optional<std::string> complete_dhcp_subnet(const ServeFlags& f, const net::Interface& iface,
                                                settings::ServeSettings& s) {
  dhcp::SubnetSettings* own = nullptr;
  for (auto& sub : s.dhcp.subnets)
    if (sub.subnet == iface.subnet) own = &sub;
  if (own == nullptr) {
    s.dhcp.subnets.push_back({iface.subnet, {}, std::nullopt, {}, "", std::chrono::seconds{3600}});
    own = &s.dhcp.subnets.back();
  }
  if (!f.pools.empty()) own->pools.clear();
  for (const auto& p : f.pools) {
    auto range = settings::parse_address_range(p);
    if (!range) return "--pool must look like 10.0.0.100-10.0.0.200, got '" + p + "'";
    if (!iface.subnet.contains(range->first) || !iface.subnet.contains(range->last))
      return "--pool " + p + " is not inside " + iface.name + "'s subnet " + iface.subnet.str();
    own->pools.push_back(*range);
  }
  if (!f.router.empty()) {
    auto ip = Ipv4::parse(f.router);
    if (!ip) return "--router must be an IPv4 address";
    own->router = ip;
  }
  if (s.dhcp.mode == dhcp::Mode::full) {
    bool any_pool = false;
    for (const auto& sub : s.dhcp.subnets) any_pool = any_pool || !sub.pools.empty();
    if (!any_pool && s.dhcp.reservations.empty())
      return "--dhcp full needs an address pool (--pool FIRST-LAST or dhcp.subnets in ramfleet.yaml)";
  }
  return std::nullopt;
}

// Defaults, then ramfleet.yaml, then flags: at start and again on SIGHUP.
// The file's diagnostics go to `diags` (file:line:col); a flag error is returned.
std::optional<std::string> resolve_settings(const ServeFlags& flags, settings::ServeSettings& s, Diagnostics& diags) {
  s = settings::default_serve_settings();
  if (!flags.config_dir.empty()) {
    s.config_dir = flags.config_dir;
    settings::apply_serve_file(flags.config_dir, s, diags);
    if (has_errors(diags)) return "ramfleet.yaml has errors";
    // ramfleet's own assets come before the ipxe package's binaries.
    auto assets = std::filesystem::path(flags.config_dir) / "assets";
    if (std::filesystem::is_directory(assets)) s.tftp.roots.insert(s.tftp.roots.begin(), assets);
  }
  return apply_flags(flags, s);
}

// The boot interface gives DHCP its address and subnet, and HTTP/TFTP their
// listen address unless --listen says otherwise.
std::optional<std::string> resolve_interface(const ServeFlags& flags, settings::ServeSettings& s,
                                             std::optional<net::Interface>& iface) {
  if (!s.interface.empty()) {
    iface = net::find_interface(s.interface);
    if (!iface) return "interface '" + s.interface + "' does not exist or has no IPv4 address";
    s.dhcp.interface = iface->name;
    s.dhcp.server_address = iface->address;
    if (flags.listen.empty()) s.listen_address = iface->address;
    if (auto err = complete_dhcp_subnet(flags, *iface, s)) return err;
  } else if (s.dhcp.mode != dhcp::Mode::off) {
    return "DHCP needs a boot interface: give --interface IF, or --dhcp off";
  }
  s.dhcp.http_port = s.http.port;
  // DHCP picks snponly.efi vs ipxe.efi (and arm64 or nothing) by what TFTP can serve.
  s.dhcp.boot_file_roots = s.tftp.roots;
  return std::nullopt;
}

// Every service serve runs, in the order they are started (and, reversed,
// destroyed: HTTP before the address owners it asks, DHCP after).
struct Services {
  std::unique_ptr<store::SqliteLeaseStore> leases;
  std::unique_ptr<net::DhcpService> dhcp;
  std::unique_ptr<net::RouterAdvertiser> router_advertiser;
  std::unique_ptr<net::TftpService> tftp;
  std::unique_ptr<net::DhcpAddressOwners> owners;
  std::unique_ptr<net::EtcdService> etcd;  // asked by HTTP's boot path: destroyed after it
  std::unique_ptr<net::HttpServer> http;
  std::unique_ptr<net::OperatorServer> api;  // shares HTTP's state: destroyed first
};

// Binds every socket and opens every store; throws on failure.
void start_services(boost::asio::io_context& io, const settings::ServeSettings& s,
                    const std::optional<net::Interface>& iface, Services& sv) {
  if (s.dhcp.mode == dhcp::Mode::full) sv.leases = store::SqliteLeaseStore::open(s.state_dir);
  if (s.dhcp.mode != dhcp::Mode::off) {
    sv.dhcp = std::make_unique<net::DhcpService>(io, *iface, s.dhcp, sv.leases.get());
    sv.dhcp->start();
  }
  if (iface && s.dhcp.answer_router_solicitations) {
    sv.router_advertiser = std::make_unique<net::RouterAdvertiser>(io, *iface);
    sv.router_advertiser->start();
  }
  if (s.tftp.enabled) {
    sv.tftp = std::make_unique<net::TftpService>(io, s.listen_address, s.tftp);
    sv.tftp->start();
  }
  if (s.http.enabled) {
    http::HttpSettings hs = s.http;
    hs.bind_address = s.listen_address.str();
    hs.store = s.store;
    if (s.config_dir) hs.config_dir = *s.config_dir;
    hs.state_dir = s.state_dir;
    sv.http = std::make_unique<net::HttpServer>(io, hs);
    // Boot tokens go only to the machine that is there (docs/cluster.md):
    // full mode asks the lease book, every mode the reservations.
    const bool full = s.dhcp.mode == dhcp::Mode::full && sv.dhcp;
    sv.owners = std::make_unique<net::DhcpAddressOwners>(s.dhcp, full ? sv.dhcp.get() : nullptr);
    sv.http->set_address_owners(sv.owners.get());
    // etcd membership and snapshots (cluster.yaml etcd.mode: ramfleet; idle otherwise).
    if (s.config_dir) {
      sv.etcd = std::make_unique<net::EtcdService>(net::EtcdService::Options{s.state_dir, *s.config_dir});
      sv.http->set_etcd_membership(sv.etcd.get());
    }
    sv.http->start();
    if (s.api.enabled) {
      // The local root bootstrap (docs/operations.md): local CLI commands read it.
      std::string why;
      if (auth::ensure_admin_token(s.state_dir, why)) {
        log::info("api.admin_token_written", {{"file", auth::admin_token_path(s.state_dir).string()}});
      } else if (!why.empty()) {
        log::warn("api.admin_token_not_written", {{"reason", why}});
      }
      sv.api = std::make_unique<net::OperatorServer>(io, *sv.http, s.api, s.state_dir);
      sv.api->start();
    }
  } else if (s.api.enabled) {
    log::warn("api.off", {{"reason", "the operator listener shares the HTTP service's state; HTTP is disabled"}});
  }
}

// GET /metrics (docs/operations.md, "Metrics"): each service adds its part;
// DHCP's boot offers start the boots whose phases HTTP follows, and DHCP's and
// TFTP's steps go into the boot report (boot/boot_progress.hpp).
void attach_metrics(Services& sv, metrics::Registry& registry) {
  if (sv.dhcp) sv.dhcp->attach_metrics(registry);
  if (auto* ra = sv.router_advertiser.get())
    registry.add_collector([ra](metrics::Exposition& out) { metrics::write_counters(out, ra->counters()); });
  if (sv.tftp) sv.tftp->attach_metrics(registry);
  if (!sv.http) return;
  sv.http->attach_metrics(registry);
  if (sv.dhcp) sv.dhcp->on_boot_offer([http = sv.http.get()](const MacAddress& mac) { http->note_boot_offer(mac); });
  if (sv.tftp)
    sv.tftp->on_transfer([http = sv.http.get()](Ipv4 client, std::string_view what) { http->note_tftp(client, what); });
}

void log_ready(const settings::ServeSettings& s) {
  log::info("serve.ready",
            {{"interface", s.interface.empty() ? "-" : s.interface},
             {"address", s.listen_address.str()},
             {"dhcp", s.dhcp.mode == dhcp::Mode::full    ? "full"
                      : s.dhcp.mode == dhcp::Mode::proxy ? "proxy"
                                                         : "off"},
             {"tftp_port", s.tftp.enabled ? std::to_string(s.tftp.port) : "off"},
             {"http_port", s.http.enabled ? std::to_string(s.http.port) : "off"},
             {"api",
              s.api.enabled && s.http.enabled ? s.api.listen.address + ":" + std::to_string(s.api.listen.port) : "off"},
             {"state", s.state_dir.string()}});
}

// SIGHUP: ramfleet.yaml (and the flags, which still win) read again; what a
// running service can take is applied, the rest is named and kept; a file
// with errors changes nothing. Then the inventory and cluster.yaml, which
// keep their own previous version when broken.
void reload(const ServeFlags& flags, settings::ServeSettings& running, Services& sv) {
  settings::ServeSettings reread;
  Diagnostics diags;
  std::optional<net::Interface> iface;
  auto err = resolve_settings(flags, reread, diags);
  if (!err) err = resolve_interface(flags, reread, iface);
  for (const auto& d : diags) {
    if (d.is_error()) {
      log::error("config.refused", {{"diagnostic", d.str()}});
    } else {
      log::warn("config.warning", {{"diagnostic", d.str()}});
    }
  }
  if (err) {
    log::error("config.kept", {{"error", *err}, {"why", "the edit has errors; the running settings keep serving"}});
  } else {
    auto plan = settings::plan_reload(running, reread);
    for (const auto& key : plan.needs_restart)
      log::warn("config.needs_restart", {{"key", key}, {"effect", "kept as it was until serve restarts"}});
    if (sv.http) sv.http->apply_live_settings(plan.next.http);
    std::string applied;
    for (const auto& key : plan.applied) applied += (applied.empty() ? "" : ",") + key;
    running = std::move(plan.next);
    log::info("config.reloaded",
              {{"applied", applied.empty() ? "-" : applied}, {"needs_restart", plan.needs_restart.size()}});
  }
  if (sv.http) sv.http->reload_config();
}

int run_serve(const ServeFlags& flags) {
  settings::ServeSettings s;
  {
    Diagnostics diags;
    auto err = resolve_settings(flags, s, diags);
    for (const auto& d : diags) std::cerr << d.str() << "\n";
    if (has_errors(diags)) return 2;
    if (err) return fail(*err);
  }
  std::optional<TargetUser> user;
  if (!flags.user.empty()) {
    user = find_user(flags.user);
    if (!user) return fail("--user " + flags.user + ": no such user");
  }
  std::optional<net::Interface> iface;
  if (auto err = resolve_interface(flags, s, iface)) return fail(*err);

  std::error_code ec;
  std::filesystem::create_directories(s.state_dir, ec);
  if (ec) return fail("cannot create state directory " + s.state_dir.string() + ": " + ec.message());

  // One thread runs every service: tell Asio so it can skip its internal locking.
  boost::asio::io_context io{1};
  metrics::Registry registry;  // outlives the services that feed it
  Services services;
  try {
    start_services(io, s, iface, services);
    attach_metrics(services, registry);
    if (user) {
      // Every socket is bound and every store open: root is no longer needed.
      hand_over(s.state_dir, *user);
      drop_root(*user);
      log::info("serve.dropped_root",
                {{"user", user->name}, {"uid", user->uid}, {"gid", user->gid}, {"kept", "CAP_NET_ADMIN"}});
    }
  } catch (const std::exception& e) {
    return fail(e.what());
  }
  // Its thread starts as the user serve runs as, so what it writes in STATE is that user's.
  if (services.etcd) services.etcd->start();

  log_ready(s);
  LifecycleHooks hooks;
  hooks.reload = [&] { reload(flags, s, services); };
  hooks.stop_accepting = [&] {
    if (services.api) services.api->drain();
    if (services.http) services.http->drain();
    if (services.tftp) services.tftp->stop_accepting();
  };
  hooks.in_flight = [&] {
    return (services.http ? services.http->open_connections() : 0) +
           (services.api ? services.api->open_connections() : 0) +
           (services.tftp ? services.tftp->active_transfers() : 0);
  };
  hooks.grace = [&] { return s.shutdown_grace; };
  hooks.finish = [&] {
    if (services.http) services.http->stop();  // flushes the machine store
  };
  return run_until_stopped(io, std::move(hooks));
}

void add_serve_command(CLI::App& app, CommandTable& commands) {
  auto* sub = app.add_subcommand("serve", "Answer network boots: DHCP (full or proxy), TFTP, HTTP");
  auto f = std::make_shared<ServeFlags>();
  sub->add_option("--interface,-i", f->interface, "boot interface; its IPv4 address is advertised as next-server");
  sub->add_option("--dhcp", f->dhcp_mode, "proxy (default: beside an existing DHCP server), full, or off")
      ->check(CLI::IsMember({"proxy", "full", "off"}));
  sub->add_option("--pool", f->pools, "full mode: address range FIRST-LAST in the interface's subnet (repeatable)");
  sub->add_option("--router", f->router, "full mode: default gateway handed to clients");
  sub->add_option("--reserve", f->reservations, "full mode: MAC=IP[,hostname] static reservation (repeatable)");
  sub->add_option("--state", f->state_dir, "where leases and boot history live (default /var/lib/ramfleet)");
  sub->add_option("--config", f->config_dir, "config directory (ramfleet.yaml, inventory, assets)")
      ->check(CLI::ExistingDirectory);
  sub->add_option("--tftp-root", f->tftp_roots, "TFTP root, searched in order (repeatable)");
  sub->add_option("--tftp-port", f->tftp_port, "TFTP port (default 69; -1 disables TFTP)");
  sub->add_option("--http-port", f->http_port, "HTTP port (default 80; -1 disables HTTP)");
  sub->add_option("--listen", f->listen, "address TFTP/HTTP listen on (default: the interface's, else 0.0.0.0)");
  sub->add_option("--api-listen", f->api_listen,
                  "operator API (HTTPS, authenticated): ADDRESS:PORT (default 127.0.0.1:9443), or off");
  sub->add_flag("--no-router-advertisements", f->no_ra, "do not answer IPv6 router solicitations");
  sub->add_option("--user", f->user,
                  "after binding every socket: hand the state directory to USER and run as USER "
                  "(keeping only CAP_NET_ADMIN, for DHCP's ARP entries)");
  sub->add_option("--shutdown-grace", f->shutdown_grace,
                  "on SIGTERM/SIGINT: how long HTTP replies and TFTP transfers in flight may take to finish "
                  "(default 10s; ramfleet.yaml shutdown_grace)");
  commands.emplace_back(sub, [f] { return run_serve(*f); });
}

const CommandRegistration kRegistration{10, add_serve_command};
}  // namespace

}  // namespace ramfleet::cli
