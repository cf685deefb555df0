#pragma once
// What only Ignition can express. cloud-config and apkovl are applied after
// the boot loader has chosen the kernel command line and without Ignition's
// config merging, so a layer that uses these is an error for those targets
// (at the key's file:line:col), never silently dropped.
#include <string_view>

#include "config/model.hpp"
#include "core/diagnostic.hpp"

namespace ramfleet::config {

void reject_ignition_only_features(const NodeConfig& c, std::string_view target, DiagnosticCollector& diag);

}  // namespace ramfleet::config
