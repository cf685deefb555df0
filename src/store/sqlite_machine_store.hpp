#pragma once
// The machine store in SQLite: <state dir>/ramfleet.db, WAL, synchronous=NORMAL
// (boots are history, not promises: a power cut may lose the last half second
// of them, never corrupt the file). See boot/machine_store.hpp for the
// contract and docs/http.md ("Storage") for the limits.
#include <cstdint>
#include <deque>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "boot/machine_store.hpp"
#include "store/sqlite.hpp"

namespace ramfleet::store {

class SqliteMachineStore final : public boot::MachineStore {
 public:
  // Opens or creates `db_file` (0600). Throws std::runtime_error naming the path.
  explicit SqliteMachineStore(const std::filesystem::path& db_file, boot::MachineStoreLimits limits = {});
  // Opens <state_dir>/ramfleet.db, creating state_dir (0700) if needed.
  static std::unique_ptr<SqliteMachineStore> open(const std::filesystem::path& state_dir,
                                                  boot::MachineStoreLimits limits = {});
  ~SqliteMachineStore() override;
  SqliteMachineStore(const SqliteMachineStore&) = delete;
  SqliteMachineStore& operator=(const SqliteMachineStore&) = delete;

  void record_boot(boot::BootRecord r) override;
  bool flush() override;
  [[nodiscard]] std::size_t pending() const override { return pending_.size(); }
  bool add_event(const boot::NodeEvent& e) override;
  boot::MachinePage machines_page(std::size_t limit, const std::string& after) override;
  std::optional<nlohmann::json> machine(const std::string& id, std::size_t history) override;
  std::optional<nlohmann::json> events(const std::string& id, std::size_t limit) override;
  [[nodiscard]] nlohmann::json health() const override;
  std::uint64_t machine_count() override;

  // Runs the age-based pruning now (flush() runs it every maintenance_interval).
  void maintain();
  // The store's counters (store.flush_failed, store.boots_dropped, store.pruned.*).
  [[nodiscard]] const std::map<std::string, std::uint64_t, std::less<>>& counters() const { return counters_; }
  // The write connection, for tests that provoke failures (PRAGMA max_page_count).
  sqlite::Db& db() { return db_; }

 private:
  struct PerMachine;
  void write_pending();
  void prune_unknown_over_cap();
  std::size_t forget_machine(const std::string& id);
  bool known(const std::string& id);
  void count(std::string_view name, std::uint64_t by = 1);
  void failed(std::string_view what, const std::exception& e);
  sqlite::Statement& cached(int kind, std::size_t rows, const std::string& sql);

  std::string path_;
  boot::MachineStoreLimits limits_;
  sqlite::Db db_;
  std::deque<boot::BootRecord> pending_;
  // Boots recorded per machine since its history was last trimmed by this
  // process (flush() trims every kTrimEvery boots, and at a machine's first
  // boot after start).
  std::unordered_map<std::string, std::int64_t> since_trim_;
  // flush()'s multi-row statements, prepared once (parsing a 64-row INSERT
  // costs more than running it); key: (statement kind, rows).
  std::map<std::pair<int, std::size_t>, sqlite::Statement> statements_;
  std::int64_t last_maintenance_ms_ = 0;

  // Health, for /healthz and the counters.
  std::map<std::string, std::uint64_t, std::less<>> counters_;
  std::string last_error_;
  std::int64_t last_error_at_ms_ = 0;
  bool ok_ = true;
  std::int64_t last_failure_log_ms_ = 0;
  std::uint64_t failures_since_log_ = 0;
  std::int64_t last_drop_log_ms_ = 0;
  std::uint64_t drops_since_log_ = 0;

  // The read-only connection machines_page() uses, from whichever thread calls it.
  std::mutex read_mu_;
  std::optional<sqlite::Db> reader_;
};

// Reads any table named `leases` from another SQLite file, read-only, as a JSON
// list of rows keyed by column name (so it follows the lease store's layout
// without depending on it). Missing file or table: empty list.
nlohmann::json read_leases(const std::filesystem::path& leases_db);

}  // namespace ramfleet::store
