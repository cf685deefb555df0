#pragma once
#include <filesystem>
#include <memory>

#include "store/lease_store.hpp"

struct sqlite3;
struct sqlite3_stmt;

namespace ramfleet::store {

// Leases in SQLite, one row per address, in <state dir>/leases.db.
// WAL with synchronous=FULL: each put() is one transaction whose WAL frame is
// fsynced before it returns. NORMAL would survive kill -9 as well (the WAL is
// in the page cache), but after a power cut it may lose the last commits and
// the server would hand an already ACKed address to a second client; one
// fsync per ACK is the price of never doing that. A batch (begin_batch /
// commit_batch) turns the writes of one event-loop turn into one transaction:
// one fsync for all of them, still before any of their ACKs is sent.
class SqliteLeaseStore final : public LeaseStore {
 public:
  // Opens or creates the database file (":memory:" for a throwaway one). Throws StoreError.
  explicit SqliteLeaseStore(const std::filesystem::path& file);
  // Opens <state_dir>/leases.db, creating state_dir if needed. Throws StoreError.
  static std::unique_ptr<SqliteLeaseStore> open(const std::filesystem::path& state_dir);
  ~SqliteLeaseStore() override;
  SqliteLeaseStore(const SqliteLeaseStore&) = delete;
  SqliteLeaseStore& operator=(const SqliteLeaseStore&) = delete;

  std::vector<Lease> load_all() override;
  void put(const Lease& lease) override;
  void erase(Ipv4 address) override;
  void begin_batch() override;
  void commit_batch() override;

 private:
  void exec(const char* sql);
  void join_batch();
  [[noreturn]] void fail(const char* what);
  sqlite3* db_ = nullptr;
  sqlite3_stmt* put_ = nullptr;
  sqlite3_stmt* erase_ = nullptr;
  sqlite3_stmt* all_ = nullptr;
  bool batching_ = false;        // between begin_batch and commit_batch
  bool in_transaction_ = false;  // the batch's transaction was begun
  bool batch_lost_ = false;      // SQLite rolled part of the batch back
};

}  // namespace ramfleet::store
