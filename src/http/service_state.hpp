#pragma once
// Everything the handlers share: settings, the current inventory (swapped on
// reload), the cluster spec, boot tokens, the machine store and the counters.
// Owned by the HTTP service and touched only from its event loop.
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>

#include "core/counters.hpp"
#include "core/diagnostic.hpp"
#include "http/script_cache.hpp"
#include "http/settings.hpp"
#include "inventory/boot_tokens.hpp"
#include "inventory/cluster_config.hpp"
#include "inventory/machine_store.hpp"
#include "inventory/model.hpp"

namespace ramfleet::inventory {
class NodeConfigCache;
}

namespace ramfleet::http {

struct ServiceState {
  HttpSettings settings;
  std::filesystem::path assets_root;  // canonical; empty when there is no assets directory
  inventory::InventoryPtr inventory;  // never null (empty inventory when there is no config)
  std::int64_t inventory_loaded_ms = 0;
  std::uint64_t inventory_generation = 0;
  Diagnostics last_reload_errors;  // from the last refused reload; cleared by a good one
  std::unique_ptr<inventory::MachineStore> store;
  std::shared_ptr<inventory::NodeConfigCache> config_cache;  // compiled configs of this inventory generation
  Counters counters;
  ScriptCache script_cache;              // rendered /ipxe replies of the current inventory generation
  inventory::ClusterConfig cluster;      // <config>/cluster.yaml, reloaded with the inventory
  inventory::BootTokenBook boot_tokens;  // minted by /ipxe, redeemed by secret-bearing configs
  std::uint64_t boundary_seq = 0;
};

std::int64_t now_ms();

}  // namespace ramfleet::http
