#pragma once
// Merged NodeConfig -> Ignition 3.x JSON. Fields the chosen spec does not have
// are errors at the line that uses them (never dropped).
#include <optional>
#include <string>

#include "config/model.hpp"
#include "config/spec_version.hpp"
#include "core/diagnostic.hpp"

namespace ramfleet::config {

std::optional<std::string> write_ignition(const NodeConfig& config, const IgnitionSpec& spec, bool pretty,
                                          DiagnosticCollector& diag);

}  // namespace ramfleet::config
