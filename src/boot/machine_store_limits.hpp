#pragma once
// The bounds of the machine store (boot/machine_store.hpp), apart so that
// settings can carry them without pulling in the store's interface. Read from
// ramfleet.yaml's `store:` section (settings/store_settings.hpp, docs/http.md).
#include <chrono>
#include <cstddef>
#include <cstdint>

namespace ramfleet::boot {

// What the store keeps, so that nothing a client can send grows it without
// bound (docs/http.md, "Storage"). An "unknown" machine is one no inventory
// group matched (decision default_profile or exit): anyone on the boot network
// can invent those by the thousand.
struct MachineStoreLimits {
  std::size_t max_pending_boots = 10000;  // queued between flushes; beyond: the oldest are dropped, counted
  std::size_t boot_history = 100;         // boots kept per machine (newest)
  std::size_t events_per_machine = 500;   // events kept per machine (newest)
  std::chrono::milliseconds event_max_age{std::chrono::hours(24 * 30)};  // older events are pruned
  std::size_t max_unknown_machines = 10000;  // beyond: the least recently seen unknown machines are pruned
  std::chrono::milliseconds unknown_max_age{std::chrono::hours(24 * 30)};  // unknown machines not seen since: pruned
  std::int64_t max_db_bytes = std::int64_t{1} << 30;      // ramfleet.db never grows past this (writes fail as "full")
  std::chrono::milliseconds maintenance_interval{60000};  // age-based pruning runs this often (from flush)
  std::chrono::milliseconds log_interval{10000};          // a repeated failure or drop is logged at most this often
  std::chrono::milliseconds busy_timeout{2000};  // wait this long for another writer's lock, then fail the flush
  bool operator==(const MachineStoreLimits&) const = default;
};

}  // namespace ramfleet::boot
