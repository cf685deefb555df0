#pragma once
// Persistent record of every machine seen, its boots and the phases it reports
// (SQLite, <state>/ramfleet.db, WAL). Single-threaded, owned by the event loop.
//
// Boots are queued in memory and written in one transaction by flush() (the
// HTTP service calls it every 500 ms and before any read), so answering /ipxe
// never waits for a disk sync. Events are written at once: a node's report is
// acknowledged only after it is stored.
#include <cstdint>
#include <filesystem>
#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

struct sqlite3;

namespace ramfleet::inventory {

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
std::optional<Phase> phase_from_string(std::string_view s);
std::string_view to_string(Phase p);

struct NodeEvent {
  std::string machine_id;
  Phase phase = Phase::booted;
  std::string message;
  std::optional<double> uptime;
  std::optional<std::int64_t> root_bytes;
  std::int64_t at_ms = 0;
};

class MachineStore {
 public:
  // Creates the database and tables if needed; throws std::runtime_error naming the path.
  explicit MachineStore(const std::filesystem::path& db_path);
  ~MachineStore();
  MachineStore(const MachineStore&) = delete;
  MachineStore& operator=(const MachineStore&) = delete;

  void record_boot(BootRecord r) { pending_.push_back(std::move(r)); }
  void flush();
  [[nodiscard]] std::size_t pending() const { return pending_.size(); }

  // Stores the event; false when the machine was never seen (nothing stored).
  bool add_event(const NodeEvent& e);

  // JSON for the API. Each includes pending boots (flushes first).
  nlohmann::json machines();
  std::optional<nlohmann::json> machine(const std::string& id, std::size_t history = 50);
  std::optional<nlohmann::json> events(const std::string& id, std::size_t limit = 200);

 private:
  void exec(const char* sql);
  bool known(const std::string& id);
  sqlite3* db_ = nullptr;
  std::string path_;
  std::vector<BootRecord> pending_;
  // Boots recorded per machine since its history was last trimmed by this
  // process (flush() trims every kTrimEvery boots, and at a machine's first
  // boot after start).
  std::unordered_map<std::string, std::int64_t> since_trim_;
  // flush()'s statements, prepared once (parsing a 64-row INSERT costs more than running it).
  struct Prepared;
  std::unique_ptr<Prepared> prepared_;
};

// Reads any table named `leases` from another SQLite file, read-only, as a JSON
// list of rows keyed by column name (so it follows the lease store's layout
// without depending on it). Missing file or table: empty list.
nlohmann::json read_leases(const std::filesystem::path& leases_db);

}  // namespace ramfleet::inventory
