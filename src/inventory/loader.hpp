#pragma once
// Loads an inventory directory (layout documented in docs/inventory.md):
//   <config>/inventory.yaml   optional: `default: exit` or `default: {profile: ID}`
//   <config>/profiles/*.yaml  one profile per file
//   <config>/groups/*.yaml    one group per file
//   <config>/machines/*.yaml  one approved machine per file, joining a group (machine_file.hpp)
// All or nothing: any error (invalid YAML, unknown key or profile, duplicate id,
// a tie between two groups) means no Inventory, only Diagnostics naming
// file:line:column, so a broken edit can never be half-served.
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>

#include "core/diagnostic.hpp"
#include "inventory/machine_file.hpp"
#include "inventory/model.hpp"

namespace ramfleet::inventory {

struct LoadResult {
  InventoryPtr inventory;  // null when diagnostics hold an error
  Diagnostics diagnostics;
};

// What the inventory cannot judge itself: which config targets and Ignition
// versions the config compiler knows. boot::load_inventory passes config's
// answers, so inventory depends on core only. An empty function accepts
// anything (the inventory's own tests and fuzzer).
struct ConfigRules {
  std::function<bool(std::string_view)> known_target;                // "ignition", "cloud-config", "apkovl"
  std::function<bool(std::string_view)> supported_ignition_version;  // "3.4.0"
};

LoadResult load_inventory(const std::filesystem::path& config_dir, const ConfigRules& rules);

// One machine file as written (machine_file.hpp), without checking that its
// group exists; nullopt with diagnostics when it is not a valid one.
std::optional<MachineFile> read_machine_file(const std::filesystem::path& path, Diagnostics& diags);

// Changes whenever a file the loader reads is added, removed or modified
// (path, size and nanosecond mtime); cheap enough to poll every second.
std::string inventory_fingerprint(const std::filesystem::path& config_dir);

}  // namespace ramfleet::inventory
