#pragma once
// The inventory as the boot pipeline loads it: inventory's loader, told by the
// config compiler which config targets and Ignition versions exist, so that a
// profile naming an unknown one is refused at load time with file:line:column.
#include <filesystem>

#include "inventory/loader.hpp"

namespace ramfleet::boot {

// config's answers for the loader's ConfigRules.
inventory::ConfigRules config_rules();

// inventory::load_inventory(config_dir, config_rules()).
inventory::LoadResult load_inventory(const std::filesystem::path& config_dir);

}  // namespace ramfleet::boot
