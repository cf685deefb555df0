#pragma once
// A client of ramfleet's own JSON API: blocking HTTP/1.0 GETs with a short
// timeout. The lab polls it a few times a second from inside its namespace
// (src/lab); a slow answer is just a missed poll. Sockets live in src/net.
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

namespace ramfleet::net {

struct HttpResult {
  int status = 0;
  std::string body;
};

std::optional<HttpResult> http_get(const std::string& host, int port, const std::string& path, int timeout_ms = 2000);

// GET + JSON parse; nullopt on any failure (unreachable, non-200, bad JSON).
std::optional<nlohmann::json> get_json(const std::string& host, int port, const std::string& path);

}  // namespace ramfleet::net
