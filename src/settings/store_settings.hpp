#pragma once
// The machine store's bounds (boot::MachineStoreLimits) as the operator
// writes them in ramfleet.yaml's `store:` section: counts, durations in
// core's grammar ("30d", "60s"; a bare number counts seconds) and a size for
// the database ("1GiB"). docs/http.md, "Storage", lists them.
#include <yaml-cpp/yaml.h>

#include "boot/machine_store_limits.hpp"
#include "core/yaml_fields.hpp"

namespace ramfleet::settings {

void read_store_section(YamlFields& y, const YAML::Node& node, boot::MachineStoreLimits& into);

}  // namespace ramfleet::settings
