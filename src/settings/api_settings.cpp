#include "settings/api_settings.hpp"

namespace ramfleet::settings {

void read_api_section(YamlFields& y, const YAML::Node& node, http::ApiSettings& into,
                      const std::filesystem::path& config_dir) {
  if (!y.expect_map(node, "api",
                    {"listen", "tls_cert", "tls_key", "client_ca", "max_connections", "max_connections_per_ip"}))
    return;
  if (auto l = node["listen"]) {
    if (auto v = y.string(l, "api.listen")) {
      if (*v == "off") {
        into.enabled = false;
      } else if (auto parsed = http::parse_api_listen(*v)) {
        into.enabled = true;
        into.listen = *parsed;
      } else {
        y.error(l, "api.listen must be ADDRESS:PORT (IPv4, like 127.0.0.1:9443) or off");
      }
    }
  }
  auto path = [&](const char* key, std::filesystem::path& out) {
    if (auto n = node[key]) {
      if (auto v = y.string(n, std::string("api.") + key)) {
        std::filesystem::path p(*v);
        out = p.is_absolute() ? p : config_dir / p;
      }
    }
  };
  path("tls_cert", into.tls_cert);
  path("tls_key", into.tls_key);
  path("client_ca", into.client_ca);
  if (into.tls_cert.empty() != into.tls_key.empty()) {
    y.error(node, "api: give both tls_cert and tls_key, or neither (then the operator CA issues one)");
  }
  if (auto m = node["max_connections"])
    if (auto v = y.integer(m, "api.max_connections", 1, 100000))
      into.limits.max_connections = static_cast<std::size_t>(*v);
  if (auto m = node["max_connections_per_ip"])
    if (auto v = y.integer(m, "api.max_connections_per_ip", 1, 100000))
      into.limits.max_connections_per_ip = static_cast<std::size_t>(*v);
}

}  // namespace ramfleet::settings
