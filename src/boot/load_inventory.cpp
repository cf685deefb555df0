#include "boot/load_inventory.hpp"

#include "config/compile.hpp"

namespace ramfleet::boot {

inventory::ConfigRules config_rules() {
  inventory::ConfigRules rules;
  rules.known_target = [](std::string_view target) { return config::parse_target(target).has_value(); };
  rules.supported_ignition_version = [](std::string_view version) {
    const auto spec = config::IgnitionSpec::parse(version);
    return spec && config::supported_ignition_spec(*spec);
  };
  return rules;
}

inventory::LoadResult load_inventory(const std::filesystem::path& config_dir) {
  return inventory::load_inventory(config_dir, config_rules());
}

}  // namespace ramfleet::boot
