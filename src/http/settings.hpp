#pragma once
// Settings of the HTTP boot service, one struct: the settings module reads it
// from ramfleet.yaml's `http:` section (and the older <config>/http.yaml,
// settings/http_settings.hpp; docs/http.md lists the keys), `ramfleet serve`
// adds the bind address and directories.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

#include "boot/machine_store_limits.hpp"

namespace ramfleet::http {

// Every resource a client can make the server hold is bounded here; the
// transport (net/http_server) enforces them. docs/http.md lists the defaults.
struct HttpLimits {
  std::size_t max_connections = 1024;       // all clients; beyond: 503 and close
  std::size_t max_connections_per_ip = 64;  // one client address; beyond: 503 and close
  std::size_t max_header_bytes = 8192;      // beyond: 431 and close
  std::size_t max_body_bytes = 65536;       // POST bodies; beyond: 413 and close
  // Deadline for a whole request (headers and body), counted from its first
  // byte, however the bytes trickle in: else 408 and close.
  std::chrono::milliseconds request_timeout{10000};
  std::chrono::milliseconds idle_timeout{30000};  // keep-alive connection with no new request: closed
  // Replies must move at least min_send_rate bytes per second, measured over
  // each send_window while the client is not reading: a slow reader of a big
  // image keeps its connection, a stalled one is closed within two windows.
  std::uint64_t min_send_rate = 1024;
  std::chrono::milliseconds send_window{10000};
  // Pacing in a boot storm (http/pacing.hpp; docs/scale.md, "Admission
  // control"): asset replies with a body (kernels, initrds, images) being sent
  // at once. Beyond it an asset GET is answered 503 with a Retry-After of
  // retry_after to 3 x retry_after seconds, and iPXE comes back then. The
  // 503s of the connection caps above carry the same Retry-After.
  std::size_t max_file_transfers = 256;
  std::chrono::milliseconds retry_after{2000};
  bool operator==(const HttpLimits&) const = default;
};

struct HttpSettings {
  bool enabled = true;
  std::string bind_address = "0.0.0.0";
  std::uint16_t port = 80;
  std::filesystem::path config_dir;  // inventory and cluster.yaml; empty: no inventory (every machine exits)
  std::filesystem::path assets_dir;  // empty: <config_dir>/assets
  std::filesystem::path state_dir;   // ramfleet.db (machines, boots, events); leases.db is read from here
  std::string base_url;              // empty: "http://" + the request's Host header
  HttpLimits limits;
  boot::MachineStoreLimits store;  // of <state_dir>/ramfleet.db, which this service opens (ramfleet.yaml store:)
  std::chrono::milliseconds reload_interval{1000};  // inventory poll period
  // How long a boot token (docs/cluster.md) minted for an iPXE script stays
  // good for the one config fetch it allows.
  std::chrono::milliseconds boot_token_ttl{5 * 60 * 1000};

  // Boot tokens /ipxe mints per requesting IP: a bucket of `boot_token_burst`
  // refilled at `boot_token_rate_per_min` (docs/cluster.md); beyond it, 429.
  double boot_token_rate_per_min = 12;
  double boot_token_burst = 10;

  // Node identities (key generation) are issued on worker threads, off the
  // event loop (boot/identity_issuer.hpp). Unset: cores - 1, at least 1;
  // 0: inline on the loop, as before (kept to measure the difference,
  // bench/identity_storm). Set at start (a change needs a restart).
  std::optional<std::size_t> identity_workers;
  // Issues waiting for a worker; a config fetch past it gets 503 + Retry-After.
  std::size_t identity_queue = 256;
  // A SIGHUP compares the settings it re-read with those running (settings/serve_reload.hpp).
  bool operator==(const HttpSettings&) const = default;
};

// The settings a running server takes on SIGHUP (the rest need a restart):
// one list, used by the server that applies them and by the reload plan that
// tells the rest apart (settings/serve_reload.cpp).
inline void take_live_settings(HttpSettings& into, const HttpSettings& from) {
  into.limits = from.limits;
  into.base_url = from.base_url;
  into.boot_token_ttl = from.boot_token_ttl;
  into.boot_token_rate_per_min = from.boot_token_rate_per_min;
  into.boot_token_burst = from.boot_token_burst;
  into.reload_interval = from.reload_interval;
}

}  // namespace ramfleet::http
