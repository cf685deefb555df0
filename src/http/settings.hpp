#pragma once
// Settings of the HTTP boot service. `ramfleet serve` fills bind address, port
// and directories; limits come from the optional <config>/http.yaml
// (see docs/http.md) so operators and tests can tighten them.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>

#include "core/diagnostic.hpp"

namespace ramfleet::http {

struct HttpLimits {
  std::size_t max_connections = 1024;                // beyond: 503 and close
  std::size_t max_header_bytes = 8192;               // beyond: 431 and close
  std::size_t max_body_bytes = 65536;                // POST bodies; beyond: 413 and close
  std::chrono::milliseconds request_timeout{10000};  // a started request must be complete by then: else 408
  std::chrono::milliseconds idle_timeout{30000};     // keep-alive connection with no new request: closed
  std::chrono::milliseconds send_timeout{30000};     // no write progress for this long: closed
};

struct HttpSettings {
  std::string bind_address = "0.0.0.0";
  std::uint16_t port = 80;
  std::filesystem::path config_dir;  // inventory and http.yaml; empty: no inventory (every machine exits)
  std::filesystem::path assets_dir;  // empty: <config_dir>/assets
  std::filesystem::path state_dir;   // ramfleet.db (machines, boots, events); leases.db is read from here
  std::string base_url;              // empty: "http://" + the request's Host header
  HttpLimits limits;
  std::chrono::milliseconds reload_interval{1000};  // inventory poll period
  // How long a boot token (docs/cluster.md) minted for an iPXE script stays
  // good for the one config fetch it allows.
  std::chrono::milliseconds boot_token_ttl{5 * 60 * 1000};
};

inline constexpr const char* kHttpFileName = "http.yaml";

// Applies <config_dir>/http.yaml (absent: nothing) onto `into`; problems go to
// `out` with file:line:column, and `into` is untouched on error.
void apply_http_file(const std::filesystem::path& config_dir, HttpSettings& into, Diagnostics& out);

}  // namespace ramfleet::http
