#pragma once
// The lab's view of ramfleet: blocking HTTP/1.0 GETs of its JSON API with a
// short timeout (the lab polls a few times a second; a slow answer is just a
// missed poll). Used from inside the lab's namespace.
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

namespace ramfleet::lab {

struct HttpResult {
  int status = 0;
  std::string body;
};

std::optional<HttpResult> http_get(const std::string& host, int port, const std::string& path, int timeout_ms = 2000);

// GET + JSON parse; nullopt on any failure (unreachable, non-200, bad JSON).
std::optional<nlohmann::json> get_json(const std::string& host, int port, const std::string& path);

}  // namespace ramfleet::lab
