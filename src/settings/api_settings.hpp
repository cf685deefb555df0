#pragma once
// ramfleet.yaml's `api:` section, the operator listener (http::ApiSettings):
//   api:
//     listen: 127.0.0.1:9443     # or "off"
//     tls_cert: /etc/ramfleet/api.crt   # both or neither; relative to the config dir
//     tls_key: /etc/ramfleet/api.key
//     client_ca: /etc/ramfleet/operators-ca.crt   # optional
//     max_connections: 64
//     max_connections_per_ip: 16
#include <yaml-cpp/yaml.h>

#include <filesystem>

#include "core/yaml_fields.hpp"
#include "http/api_settings.hpp"

namespace ramfleet::settings {

void read_api_section(YamlFields& y, const YAML::Node& node, http::ApiSettings& into,
                      const std::filesystem::path& config_dir);

}  // namespace ramfleet::settings
