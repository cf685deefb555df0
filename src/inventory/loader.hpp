#pragma once
// Loads an inventory directory (layout documented in docs/inventory.md):
//   <config>/inventory.yaml   optional: `default: exit` or `default: {profile: ID}`
//   <config>/profiles/*.yaml  one profile per file
//   <config>/groups/*.yaml    one group per file
// All or nothing: any error (invalid YAML, unknown key or profile, duplicate id,
// a tie between two groups) means no Inventory, only Diagnostics naming
// file:line:column, so a broken edit can never be half-served.
#include <filesystem>
#include <string>

#include "core/diagnostic.hpp"
#include "inventory/model.hpp"

namespace ramfleet::inventory {

struct LoadResult {
  InventoryPtr inventory;  // null when diagnostics hold an error
  Diagnostics diagnostics;
};

LoadResult load_inventory(const std::filesystem::path& config_dir);

// Changes whenever a file the loader reads is added, removed or modified
// (path, size and nanosecond mtime); cheap enough to poll every second.
std::string inventory_fingerprint(const std::filesystem::path& config_dir);

}  // namespace ramfleet::inventory
