#pragma once
// Settings for `ramfleet serve`: built-in defaults, then <config>/ramfleet.yaml,
// then command-line flags (flags win). This file holds the defaults and the
// YAML layer; the CLI applies flags on top.
#include <chrono>
#include <filesystem>
#include <optional>
#include <string>

#include "boot/machine_store_limits.hpp"
#include "core/diagnostic.hpp"
#include "dhcp/settings.hpp"
#include "http/api_settings.hpp"
#include "http/settings.hpp"
#include "tftp/settings.hpp"

namespace ramfleet::settings {

inline constexpr const char* kServeFileName = "ramfleet.yaml";

struct ServeSettings {
  std::string interface;  // empty: no DHCP; TFTP/HTTP listen on listen_address
  Ipv4 listen_address;    // 0.0.0.0 unless an interface is given
  std::filesystem::path state_dir = "/var/lib/ramfleet";
  std::optional<std::filesystem::path> config_dir;
  dhcp::Settings dhcp;
  tftp::Settings tftp;
  boot::MachineStoreLimits store;  // ramfleet.yaml's store:; the HTTP service opens the machine store
  http::HttpSettings http;         // ramfleet.yaml's http: (and the older http.yaml); serve adds address and dirs
  // SIGTERM/SIGINT: how long in-flight HTTP replies and TFTP transfers may
  // take to finish before serve exits anyway (ramfleet.yaml shutdown_grace:).
  std::chrono::milliseconds shutdown_grace{10000};
  http::ApiSettings api;  // ramfleet.yaml's api:, the operator listener (serve --api-listen)
};

// The defaults an operator gets with no config and no flags: proxyDHCP, TFTP
// serving ramfleet's assets and the ipxe package's binaries, HTTP on port 80.
ServeSettings default_serve_settings();

// Applies <config_dir>/ramfleet.yaml (absent file: nothing to apply) on top of
// `into`, after the older <config_dir>/http.yaml if there is one
// (settings/http_settings.hpp). Every problem is reported in `out` with
// file:line:column; on any error `into` is left as it was, so nothing
// half-read is ever used.
void apply_serve_file(const std::filesystem::path& config_dir, ServeSettings& into, Diagnostics& out);

// Parses "10.0.0.100-10.0.0.200".
std::optional<dhcp::AddressRange> parse_address_range(std::string_view text);

}  // namespace ramfleet::settings
