#include "settings/serve_reload.hpp"

namespace ramfleet::settings {

ReloadPlan plan_reload(const ServeSettings& running, const ServeSettings& reread) {
  ReloadPlan plan{running, {}, {}};
  auto& next = plan.next;
  // Kept: each of these is a bound socket, an open file or a service that
  // runs or not.
  auto kept = [&](bool differs, const char* key) {
    if (differs) plan.needs_restart.emplace_back(key);
  };
  kept(running.interface != reread.interface, "interface");
  kept(running.listen_address != reread.listen_address, "listen address");
  kept(running.state_dir != reread.state_dir, "state");
  kept(running.dhcp.mode != reread.dhcp.mode, "dhcp.mode");
  // The rest of dhcp: the lease book and the rate limiters are built from it at start.
  auto dhcp_rest = reread.dhcp;
  dhcp_rest.mode = running.dhcp.mode;
  kept(running.dhcp != dhcp_rest, "dhcp");
  kept(running.tftp.enabled != reread.tftp.enabled, "tftp.enabled");
  kept(running.tftp.port != reread.tftp.port, "tftp.port");
  auto tftp_rest = reread.tftp;
  tftp_rest.enabled = running.tftp.enabled;
  tftp_rest.port = running.tftp.port;
  kept(running.tftp != tftp_rest, "tftp");  // roots, transfer slots: sized at start
  kept(running.store != reread.store, "store");
  kept(running.http.enabled != reread.http.enabled, "http.enabled");
  kept(running.http.port != reread.http.port, "http.port");
  kept(running.api != reread.api, "api");  // the operator listener: a socket and its TLS context

  // Live: read by the HTTP service per request or per timer tick.
  auto live = [&](bool differs, const char* key, auto apply) {
    if (!differs) return;
    apply();
    plan.applied.emplace_back(key);
  };
  const auto& a = running.http;
  const auto& b = reread.http;
  live(a.limits != b.limits, "http.limits", [&] { next.http.limits = b.limits; });
  live(a.base_url != b.base_url, "http.base_url", [&] { next.http.base_url = b.base_url; });
  live(a.reload_interval != b.reload_interval, "http.reload_interval",
       [&] { next.http.reload_interval = b.reload_interval; });
  live(a.boot_token_ttl != b.boot_token_ttl || a.boot_token_rate_per_min != b.boot_token_rate_per_min ||
           a.boot_token_burst != b.boot_token_burst,
       "http.boot_tokens", [&] {
         next.http.boot_token_ttl = b.boot_token_ttl;
         next.http.boot_token_rate_per_min = b.boot_token_rate_per_min;
         next.http.boot_token_burst = b.boot_token_burst;
       });
  live(running.shutdown_grace != reread.shutdown_grace, "shutdown_grace",
       [&] { next.shutdown_grace = reread.shutdown_grace; });
  // Whatever else of http: differs (directories) needs a restart: compare
  // with the live keys and those named above taken as they run.
  auto http_rest = b;
  http::take_live_settings(http_rest, a);
  http_rest.enabled = a.enabled;
  http_rest.port = a.port;
  http_rest.store = a.store;
  kept(a != http_rest, "http");
  return plan;
}

}  // namespace ramfleet::settings
