#pragma once
// What the boot layer keeps between requests: the current inventory (swapped
// on reload), cluster.yaml, the boot tokens, the machine store, the compiled
// configs and rendered scripts, and the counters. Owned by the service that
// runs the boot layer and touched only from its event loop.
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "boot/address_owners.hpp"
#include "boot/boot_phases.hpp"
#include "boot/boot_progress.hpp"
#include "boot/boot_tokens.hpp"
#include "boot/cluster_config.hpp"
#include "boot/etcd_membership.hpp"
#include "boot/event_credentials.hpp"
#include "boot/machine_store.hpp"
#include "boot/script_cache.hpp"
#include "core/counters.hpp"
#include "core/diagnostic.hpp"
#include "core/rate_limit.hpp"
#include "inventory/model.hpp"

namespace ramfleet::metrics {
class HistogramFamily;
}

namespace ramfleet::boot {

class NodeConfigCache;
class IdentityIssuer;

struct BootState {
  inventory::InventoryPtr inventory;  // never null (empty inventory when there is no config)
  std::int64_t inventory_loaded_ms = 0;
  std::uint64_t inventory_generation = 0;
  Diagnostics last_reload_errors;  // from the last refused reload; cleared by a good one
  std::unique_ptr<MachineStore> store;
  std::shared_ptr<NodeConfigCache> config_cache;  // compiled configs of this inventory generation
  Counters counters;
  ScriptCache script_cache;   // rendered /ipxe replies of the current inventory generation
  ClusterConfig cluster;      // <config>/cluster.yaml, reloaded with the inventory
  BootTokenBook boot_tokens;  // minted by /ipxe, redeemed by secret-bearing configs
  // Issued by /ipxe (a script that renders {{event_credential}}), checked by
  // the node event POST. A random secret until the service loads
  // STATE/event-credential.key (event_secret.hpp).
  EventCredentials event_credentials{random_event_secret()};
  BootPhases phases;  // each machine's boot, milestone by milestone, for metrics
  // Each machine's last step and why it stopped there: the after-storm report.
  BootProgress progress;
  // Per requesting IP (BootSettings::boot_token_rate_per_min; the rate is set
  // per request). A full table forgets the quietest IP: a booting machine is
  // never refused because others filled it.
  KeyedRateLimiter<std::string> token_minting{RateLimit{12.0 / 60, 10}, 4096, WhenFull::evict_least_recent};
  LogThrottle<> rate_limited_log{std::chrono::seconds(10)};
  // Who holds which address (full DHCP mode: the lease book); null when
  // nothing tells (docs/cluster.md, "Which machine gets the token").
  const AddressOwners* address_owners = nullptr;
  // etcd membership (cluster.yaml `etcd.mode: ramfleet`); null: first formation only.
  EtcdMembership* etcd = nullptr;
  // Issues node identities on worker threads (identity_issuer.hpp); null:
  // issued inline by the config fetch, on the loop (http.identity_workers: 0).
  IdentityIssuer* identities = nullptr;
  // How long each step of the boot layer held the event loop, by step
  // ("config.compile", "store.flush" ...); null: not measured (no /metrics).
  metrics::HistogramFamily* loop_steps = nullptr;
  // Told of every boot the layer records, as it is queued for the store: the
  // operator's live feed (http/event_feed.hpp). Empty: nobody listens.
  std::function<void(const BootRecord&)> on_boot;
};

// The clocks of one request, passed in so the layer stays testable without sleeping.
struct Now {
  std::chrono::steady_clock::time_point steady;  // token lifetimes, rate limits
  std::int64_t wall_ms = 0;                      // boot records (ms since the epoch)
};

// Who is asking: the address a reply goes to, as the transport saw it.
struct Peer {
  std::string address;  // "10.0.0.7" (no port)
  std::string text;     // "10.0.0.7:4711", for logs
};

}  // namespace ramfleet::boot
