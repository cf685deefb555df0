#pragma once
// Settings of the operator listener (docs/operations.md, "Exposure and
// credentials"): ramfleet.yaml's `api:` section (settings/api_settings.hpp)
// and `serve --api-listen`. HTTPS only; the limits bound what one client can
// hold, as on the boot listener, but smaller: operators are few.
#include <charconv>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "core/ipv4.hpp"
#include "http/settings.hpp"

namespace ramfleet::http {

struct ApiListen {
  std::string address = "127.0.0.1";  // IPv4
  std::uint16_t port = 9443;
  bool operator==(const ApiListen&) const = default;
};

// "ADDR:PORT" (IPv4, port 1-65535); nullopt for anything else. "off" is the
// caller's business. Inline: settings/ and cli/ read it without linking http/.
inline std::optional<ApiListen> parse_api_listen(std::string_view text) {
  const auto colon = text.rfind(':');
  if (colon == std::string_view::npos) return std::nullopt;
  auto ip = Ipv4::parse(text.substr(0, colon));
  const auto ps = text.substr(colon + 1);
  unsigned port = 0;
  auto [p, ec] = std::from_chars(ps.data(), ps.data() + ps.size(), port);
  if (!ip || ec != std::errc{} || p != ps.data() + ps.size() || port == 0 || port > 65535) return std::nullopt;
  return ApiListen{ip->str(), static_cast<std::uint16_t>(port)};
}

struct ApiSettings {
  bool enabled = true;
  ApiListen listen;
  // The server's certificate and key (PEM); empty: one issued by the operator
  // CA in STATE/api/ (server.crt), renewed when the listen address changes.
  std::filesystem::path tls_cert, tls_key;
  // Client certificates signed by this CA (PEM) are accepted too, beside the
  // operator CA's own.
  std::filesystem::path client_ca;
  HttpLimits limits = [] {
    HttpLimits l;
    l.max_connections = 64;
    l.max_connections_per_ip = 16;
    l.max_body_bytes = 1U << 20U;  // writes carry small JSON documents
    return l;
  }();
  bool operator==(const ApiSettings&) const = default;
};

}  // namespace ramfleet::http
