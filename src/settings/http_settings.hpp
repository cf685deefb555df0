#pragma once
// The HTTP service's settings (http::HttpSettings, one struct) as the
// operator writes them: ramfleet.yaml's `http:` section, durations in core's
// grammar ("30s", "500ms"; a bare number counts seconds), sizes in bytes or
// with a unit ("64KiB"). The older <config>/http.yaml, with its *_ms keys, is
// still read, and every key there is answered by a warning naming its new
// place in ramfleet.yaml (docs/http.md, "Moving from http.yaml").
#include <yaml-cpp/yaml.h>

#include <filesystem>

#include "core/diagnostic.hpp"
#include "core/yaml_fields.hpp"
#include "http/settings.hpp"

namespace ramfleet::settings {

inline constexpr const char* kLegacyHttpFileName = "http.yaml";

// Reads ramfleet.yaml's `http:` mapping onto `into`.
void read_http_section(YamlFields& y, const YAML::Node& node, http::HttpSettings& into);

// Applies <config_dir>/http.yaml (absent: nothing) onto `into`, with one
// warning per key; errors leave `into` as it was.
void apply_legacy_http_file(const std::filesystem::path& config_dir, http::HttpSettings& into, Diagnostics& out);

}  // namespace ramfleet::settings
