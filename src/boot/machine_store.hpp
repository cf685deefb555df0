#pragma once
// The record of every machine seen, its boots and the phases it reports: the
// interface the boot layer owns and uses (BootState::store). SQLite implements it
// (store/sqlite_machine_store.hpp); an etcd store would be one more file.
//
// Boots are queued in memory and written in one transaction by flush() (the
// HTTP service calls it every 500 ms and before any read), so answering /ipxe
// never waits for a disk sync. Events are written at once: a node's report is
// acknowledged only after it is stored.
#include <chrono>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "boot/machine_store_limits.hpp"

namespace ramfleet::boot {

struct BootRecord {
  std::string machine_id;
  std::string facts_json;  // the facts as sent, JSON object
  std::string group;       // empty when unmatched
  std::string profile;     // empty for exit
  std::string decision;    // "group", "default_profile", "exit"
  std::string reason;
  std::int64_t at_ms = 0;
};

enum class Phase { booted, configured, ready, error };

// Inline: the store implementations use them without linking the inventory.
inline std::optional<Phase> phase_from_string(std::string_view s) {
  if (s == "booted") return Phase::booted;
  if (s == "configured") return Phase::configured;
  if (s == "ready") return Phase::ready;
  if (s == "error") return Phase::error;
  return std::nullopt;
}

inline std::string_view to_string(Phase p) {
  switch (p) {
    case Phase::booted:
      return "booted";
    case Phase::configured:
      return "configured";
    case Phase::ready:
      return "ready";
    case Phase::error:
      return "error";
  }
  return "?";
}

struct NodeEvent {
  std::string machine_id;
  Phase phase = Phase::booted;
  std::string message;
  std::optional<double> uptime;
  std::optional<std::int64_t> root_bytes;
  std::int64_t at_ms = 0;
};

// One page of GET /api/v1/machines, in id order.
struct MachinePage {
  nlohmann::json machines = nlohmann::json::array();
  std::optional<std::string> next;  // the cursor for the next page; none on the last page
};

class MachineStore {
 public:
  virtual ~MachineStore() = default;

  // Queues a boot for the next flush(). The queue is bounded
  // (MachineStoreLimits::max_pending_boots): beyond it the oldest queued boot
  // is dropped and counted (store.boots_dropped).
  virtual void record_boot(BootRecord r) = 0;
  // Writes the queued boots in one transaction. On failure (disk full,
  // database locked) nothing is written, the boots stay queued for the next
  // flush, the error is logged (at most once per log_interval), counted
  // (store.flush_failed) and shown by health(); returns false. Also runs the
  // retention pruning every maintenance_interval.
  virtual bool flush() = 0;
  [[nodiscard]] virtual std::size_t pending() const = 0;

  // Stores the event; false when the machine was never seen (nothing stored).
  // Throws std::runtime_error (with the database's message) when it cannot be stored.
  virtual bool add_event(const NodeEvent& e) = 0;

  // A page of at most `limit` machines whose id sorts after `after` (empty:
  // from the start). Safe to call from another thread than the one that
  // writes (it reads on its own read-only connection) and sees what flush()
  // committed. Throws std::runtime_error.
  virtual MachinePage machines_page(std::size_t limit, const std::string& after) = 0;
  // JSON for the API; include pending boots (flush first). Throw std::runtime_error.
  virtual std::optional<nlohmann::json> machine(const std::string& id, std::size_t history = 50) = 0;
  virtual std::optional<nlohmann::json> events(const std::string& id, std::size_t limit = 200) = 0;
  // How many machines the store knows (committed ones; for metrics). Throws std::runtime_error.
  virtual std::uint64_t machine_count() = 0;

  // {"ok": bool, "pending_boots", "dropped_boots", "failed_flushes", "last_error", "last_error_at_ms", ...}
  [[nodiscard]] virtual nlohmann::json health() const = 0;
};

}  // namespace ramfleet::boot
