#include "settings/serve_settings.hpp"

#include "core/yaml_fields.hpp"
#include "settings/api_settings.hpp"
#include "settings/http_settings.hpp"
#include "settings/store_settings.hpp"

namespace ramfleet::settings {

ServeSettings default_serve_settings() {
  ServeSettings s;
  s.tftp.roots = {"/usr/lib/ipxe"};
  return s;
}

std::optional<dhcp::AddressRange> parse_address_range(std::string_view text) {
  auto dash = text.find('-');
  if (dash == std::string_view::npos) return std::nullopt;
  auto first = Ipv4::parse(text.substr(0, dash));
  auto last = Ipv4::parse(text.substr(dash + 1));
  if (!first || !last || *last < *first) return std::nullopt;
  return dhcp::AddressRange{*first, *last};
}

namespace {

void read_subnet(YamlFields& y, const YAML::Node& node, std::vector<dhcp::SubnetSettings>& out) {
  if (!y.expect_map(node, "dhcp subnet", {"subnet", "pools", "router", "dns", "domain", "lease_time"})) return;
  dhcp::SubnetSettings s;
  if (!node["subnet"]) {
    y.error(node, "dhcp subnet needs 'subnet' (like 10.0.0.0/24)");
    return;
  }
  if (auto v = y.subnet(node["subnet"], "subnet")) s.subnet = *v;
  if (auto pools = node["pools"]; pools && y.expect_sequence(pools, "pools")) {
    for (const auto& p : pools) {
      auto range = p.IsScalar() ? parse_address_range(p.Scalar()) : std::nullopt;
      if (!range) {
        y.error(p, "pool must be a range like 10.0.0.100-10.0.0.200");
      } else if (!s.subnet.contains(range->first) || !s.subnet.contains(range->last)) {
        y.error(p, "pool " + p.Scalar() + " is not inside subnet " + s.subnet.str());
      } else {
        s.pools.push_back(*range);
      }
    }
  }
  if (auto r = node["router"]) s.router = y.ipv4(r, "router");
  if (auto dns = node["dns"]; dns && y.expect_sequence(dns, "dns")) {
    for (const auto& d : dns)
      if (auto ip = y.ipv4(d, "dns server")) s.dns_servers.push_back(*ip);
  }
  if (auto d = node["domain"]) s.domain_name = y.string(d, "domain").value_or("");
  if (auto lt = node["lease_time"])
    if (auto v = y.duration(lt, "lease_time")) s.lease_time = *v;
  out.push_back(std::move(s));
}

// Packets per second (0: no limit) and burst, as whole numbers.
void read_rate(YamlFields& y, const YAML::Node& node, std::string_view what, RateLimit& into) {
  const std::string rate = std::string(what) + "_rate";
  const std::string burst = std::string(what) + "_burst";
  if (auto r = node[rate])
    if (auto v = y.integer(r, "dhcp.limits." + rate, 0, 1'000'000)) into.per_second = static_cast<double>(*v);
  if (auto b = node[burst])
    if (auto v = y.integer(b, "dhcp.limits." + burst, 1, 1'000'000)) into.burst = static_cast<double>(*v);
}

void read_dhcp_limits(YamlFields& y, const YAML::Node& node, dhcp::Settings& d) {
  if (!y.expect_map(node, "dhcp.limits",
                    {"per_mac_rate", "per_mac_burst", "global_rate", "global_burst", "tracked_macs", "warn_interval"}))
    return;
  read_rate(y, node, "per_mac", d.per_mac_limit);
  read_rate(y, node, "global", d.global_limit);
  if (auto t = node["tracked_macs"])
    if (auto v = y.integer(t, "dhcp.limits.tracked_macs", 1, 10'000'000)) d.tracked_macs = static_cast<std::size_t>(*v);
  if (auto w = node["warn_interval"])
    if (auto v = y.duration(w, "dhcp.limits.warn_interval")) d.warn_interval = *v;
}

void read_dhcp(YamlFields& y, const YAML::Node& node, dhcp::Settings& d) {
  if (!y.expect_map(node, "dhcp", {"mode", "subnets", "reservations", "router_advertisements", "boot_files", "limits"}))
    return;
  if (auto m = node["mode"]) {
    auto v = y.string(m, "dhcp.mode");
    if (v == "proxy")
      d.mode = dhcp::Mode::proxy;
    else if (v == "full")
      d.mode = dhcp::Mode::full;
    else if (v == "off")
      d.mode = dhcp::Mode::off;
    else if (v)
      y.error(m, "dhcp.mode must be proxy, full or off");
  }
  if (auto subnets = node["subnets"]; subnets && y.expect_sequence(subnets, "dhcp.subnets")) {
    d.subnets.clear();
    for (const auto& s : subnets) read_subnet(y, s, d.subnets);
  }
  if (auto res = node["reservations"]; res && y.expect_sequence(res, "dhcp.reservations")) {
    for (const auto& r : res) {
      if (!y.expect_map(r, "reservation", {"mac", "ip", "hostname"})) continue;
      if (!r["mac"] || !r["ip"]) {
        y.error(r, "reservation needs 'mac' and 'ip'");
        continue;
      }
      auto mac = y.mac(r["mac"], "reservation mac");
      auto ip = y.ipv4(r["ip"], "reservation ip");
      std::string host = r["hostname"] ? y.string(r["hostname"], "hostname").value_or("") : "";
      if (mac && ip) d.reservations.push_back({*mac, *ip, host});
    }
  }
  if (auto limits = node["limits"]) read_dhcp_limits(y, limits, d);
  if (auto ra = node["router_advertisements"])
    if (auto v = y.boolean(ra, "dhcp.router_advertisements")) d.answer_router_solicitations = *v;
  if (auto bf = node["boot_files"]; bf && y.expect_map(bf, "dhcp.boot_files", {"bios", "uefi_x64", "uefi_arm64"})) {
    if (bf["bios"]) d.boot_files.bios = y.string(bf["bios"], "bios").value_or(d.boot_files.bios);
    if (bf["uefi_x64"]) d.boot_files.uefi_x64 = y.string(bf["uefi_x64"], "uefi_x64").value_or(d.boot_files.uefi_x64);
    if (bf["uefi_arm64"])
      d.boot_files.uefi_arm64 = y.string(bf["uefi_arm64"], "uefi_arm64").value_or(d.boot_files.uefi_arm64);
  }
}

void read_tftp(YamlFields& y, const YAML::Node& node, tftp::Settings& t, const std::filesystem::path& config_dir) {
  if (!y.expect_map(node, "tftp",
                    {"enabled", "port", "roots", "max_transfers", "max_transfers_per_client", "max_timeout",
                     "max_transfer_time", "ack_poll_us"}))
    return;
  if (auto e = node["enabled"]) t.enabled = y.boolean(e, "tftp.enabled").value_or(t.enabled);
  if (auto p = node["port"])
    if (auto v = y.integer(p, "tftp.port", 1, 65535)) t.port = static_cast<std::uint16_t>(*v);
  if (auto roots = node["roots"]; roots && y.expect_sequence(roots, "tftp.roots")) {
    t.roots.clear();
    for (const auto& r : roots) {
      if (auto v = y.string(r, "tftp root")) {
        std::filesystem::path p(*v);
        t.roots.push_back(p.is_absolute() ? p : config_dir / p);  // relative roots are relative to the config
      }
    }
  }
  if (auto m = node["max_transfers"])
    if (auto v = y.integer(m, "tftp.max_transfers", 1, 100000)) t.max_transfers = static_cast<std::size_t>(*v);
  if (auto m = node["max_transfers_per_client"])
    if (auto v = y.integer(m, "tftp.max_transfers_per_client", 1, 100000))
      t.max_transfers_per_client = static_cast<std::size_t>(*v);
  if (auto m = node["max_timeout"])
    if (auto v = y.duration(m, "tftp.max_timeout")) {
      if (*v > std::chrono::seconds(255))
        y.error(m, "tftp.max_timeout must be at most 255s (RFC 2349)");
      else
        t.max_timeout = *v;
    }
  if (auto m = node["max_transfer_time"])
    if (auto v = y.duration(m, "tftp.max_transfer_time")) t.max_transfer_time = *v;
  if (auto a = node["ack_poll_us"])
    if (auto v = y.integer(a, "tftp.ack_poll_us", 0, 1000)) t.ack_poll_budget = std::chrono::microseconds(*v);
}

}  // namespace

void apply_serve_file(const std::filesystem::path& config_dir, ServeSettings& into, Diagnostics& out) {
  Diagnostics local;
  ServeSettings s = into;
  apply_legacy_http_file(config_dir, s.http, local);
  auto path = config_dir / kServeFileName;
  if (std::filesystem::exists(path)) {
    YamlFields y(path.string(), local);
    auto doc = y.load();
    // An empty file sets nothing.
    if (doc && !doc->IsNull() &&
        y.expect_map(*doc, "ramfleet.yaml",
                     {"interface", "state", "dhcp", "tftp", "http", "api", "store", "shutdown_grace"})) {
      if (auto i = (*doc)["interface"]) s.interface = y.string(i, "interface").value_or(s.interface);
      if (auto st = (*doc)["state"])
        if (auto v = y.string(st, "state")) s.state_dir = *v;
      if (auto d = (*doc)["dhcp"]) read_dhcp(y, d, s.dhcp);
      if (auto t = (*doc)["tftp"]) read_tftp(y, t, s.tftp, config_dir);
      if (auto h = (*doc)["http"]) read_http_section(y, h, s.http);
      if (auto a = (*doc)["api"]) read_api_section(y, a, s.api, config_dir);
      if (auto st = (*doc)["store"]) read_store_section(y, st, s.store);
      if (auto g = (*doc)["shutdown_grace"])
        if (auto v = y.duration_ms(g, "shutdown_grace")) s.shutdown_grace = *v;
    }
  }
  const bool failed = has_errors(local);
  out.insert(out.end(), local.begin(), local.end());
  if (!failed) into = std::move(s);
}

}  // namespace ramfleet::settings
