#pragma once
// Butane-compatible YAML (variants fcos and flatcar) -> NodeConfig, for one
// layer. Template variables are rendered in every string value as it is read,
// so an undefined variable points at its own line and column.
#include <filesystem>
#include <optional>
#include <string>

#include "config/model.hpp"
#include "config/template_renderer.hpp"
#include "core/diagnostic.hpp"

namespace ramfleet::config {

// One layer's text and the name used in diagnostics (usually its file path).
struct LayerSource {
  std::string name;
  std::string text;
};

struct ParseOptions {
  std::optional<std::filesystem::path> files_dir;  // root for `local:` and `trees:`
};

// Always returns what could be parsed; errors and warnings go to `diag`.
NodeConfig parse_layer(const LayerSource& layer, const TemplateRenderer& renderer, const ParseOptions& options,
                       DiagnosticCollector& diag);

// The key that marks a list entry as a removal of an earlier layer's entry.
inline constexpr const char* kRemoveKey = "ramfleet.remove";

// Systemd unit and drop-in name rules (shared with the writers).
bool valid_unit_name(const std::string& name);
bool valid_dropin_name(const std::string& name);

}  // namespace ramfleet::config
