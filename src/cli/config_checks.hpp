#pragma once
// `ramfleet check DIR` runs every registered checker over a config directory.
// Each area (serve settings, inventory, node configs, cluster spec) registers
// its checker from its own cli/*.cpp file, like subcommands do.
#include <filesystem>
#include <string>
#include <vector>

#include "core/diagnostic.hpp"

namespace ramfleet::cli {

using ConfigChecker = Diagnostics (*)(const std::filesystem::path& config_dir);

struct ConfigCheckRegistration {
  ConfigCheckRegistration(const char* name, ConfigChecker checker);
};

std::vector<std::pair<std::string, ConfigChecker>>& registered_config_checks();

}  // namespace ramfleet::cli
