#pragma once
#include <filesystem>
#include <memory>
#include <optional>

#include "dhcp/lease_store.hpp"
#include "store/sqlite.hpp"

namespace ramfleet::store {

// Leases in SQLite, one row per address, in <state dir>/leases.db (0600, the
// directory 0700). WAL with synchronous=FULL: each put() is one transaction
// whose WAL frame is fsynced before it returns. NORMAL would survive kill -9
// as well (the WAL is in the page cache), but after a power cut it may lose
// the last commits and the server would hand an already ACKed address to a
// second client; one fsync per ACK is the price of never doing that. A batch
// (begin_batch / commit_batch) turns the writes of one event-loop turn into
// one transaction: one fsync for all of them, still before any of their ACKs
// is sent.
class SqliteLeaseStore final : public dhcp::LeaseStore {
 public:
  // Opens or creates the database file (":memory:" for a throwaway one). Throws dhcp::StoreError.
  explicit SqliteLeaseStore(const std::filesystem::path& file);
  // Opens <state_dir>/leases.db, creating state_dir if needed. Throws dhcp::StoreError.
  static std::unique_ptr<SqliteLeaseStore> open(const std::filesystem::path& state_dir);
  ~SqliteLeaseStore() override;
  SqliteLeaseStore(const SqliteLeaseStore&) = delete;
  SqliteLeaseStore& operator=(const SqliteLeaseStore&) = delete;

  std::vector<dhcp::Lease> load_all() override;
  void put(const dhcp::Lease& lease) override;
  void erase(Ipv4 address) override;
  void begin_batch() override;
  void commit_batch() override;

 private:
  void join_batch();
  sqlite::Db db_;
  std::optional<sqlite::Statement> put_;
  std::optional<sqlite::Statement> erase_;
  std::optional<sqlite::Statement> all_;
  bool batching_ = false;                     // between begin_batch and commit_batch
  bool batch_lost_ = false;                   // SQLite rolled part of the batch back
  std::optional<sqlite::Transaction> batch_;  // begun by the batch's first write
};

}  // namespace ramfleet::store
