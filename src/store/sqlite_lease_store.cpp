#include "store/sqlite_lease_store.hpp"

#include <sqlite3.h>

#include <algorithm>
#include <array>
#include <string>
#include <utility>

namespace ramfleet::store {

namespace {
// Resets a statement however the step ended, so it can be reused.
struct StatementReset {
  sqlite3_stmt* s;
  ~StatementReset() {
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
  }
};
}  // namespace

std::unique_ptr<SqliteLeaseStore> SqliteLeaseStore::open(const std::filesystem::path& state_dir) {
  std::error_code ec;
  std::filesystem::create_directories(state_dir, ec);
  if (ec) throw StoreError("cannot create state directory " + state_dir.string() + ": " + ec.message());
  return std::make_unique<SqliteLeaseStore>(state_dir / "leases.db");
}

SqliteLeaseStore::SqliteLeaseStore(const std::filesystem::path& file) {
  int rc =
      sqlite3_open_v2(file.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = db_ ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
    sqlite3_close(db_);
    db_ = nullptr;
    throw StoreError("cannot open lease database " + file.string() + ": " + msg);
  }
  // A constructor that throws runs no destructor: release the handle here.
  try {
    sqlite3_busy_timeout(db_, 2000);
    exec("PRAGMA journal_mode=WAL");
    exec("PRAGMA synchronous=FULL");
    exec(
        "CREATE TABLE IF NOT EXISTS leases ("
        " address INTEGER PRIMARY KEY,"  // IPv4 in host order
        " mac BLOB NOT NULL,"
        " client_id BLOB NOT NULL,"
        " hostname TEXT NOT NULL,"
        " state INTEGER NOT NULL,"
        " expires_at INTEGER NOT NULL)");
    auto prepare = [&](const char* sql, sqlite3_stmt** s) {
      if (sqlite3_prepare_v2(db_, sql, -1, s, nullptr) != SQLITE_OK) fail("prepare");
    };
    prepare("INSERT OR REPLACE INTO leases VALUES (?1, ?2, ?3, ?4, ?5, ?6)", &put_);
    prepare("DELETE FROM leases WHERE address = ?1", &erase_);
    prepare("SELECT address, mac, client_id, hostname, state, expires_at FROM leases ORDER BY address", &all_);
  } catch (...) {
    sqlite3_finalize(put_);
    sqlite3_finalize(erase_);
    sqlite3_finalize(all_);
    sqlite3_close(db_);
    db_ = nullptr;
    throw;
  }
}

SqliteLeaseStore::~SqliteLeaseStore() {
  sqlite3_finalize(put_);
  sqlite3_finalize(erase_);
  sqlite3_finalize(all_);
  sqlite3_close(db_);
}

void SqliteLeaseStore::exec(const char* sql) {
  char* err = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = err ? err : "unknown error";
    sqlite3_free(err);
    throw StoreError(std::string("lease database: ") + sql + ": " + msg);
  }
}

void SqliteLeaseStore::fail(const char* what) {
  throw StoreError(std::string("lease database ") + what + ": " + sqlite3_errmsg(db_));
}

std::vector<Lease> SqliteLeaseStore::load_all() {
  StatementReset reset{all_};
  std::vector<Lease> out;
  int rc;
  while ((rc = sqlite3_step(all_)) == SQLITE_ROW) {
    Lease l;
    l.address = Ipv4{static_cast<std::uint32_t>(sqlite3_column_int64(all_, 0))};
    const auto* mac = static_cast<const std::uint8_t*>(sqlite3_column_blob(all_, 1));
    if (mac != nullptr && sqlite3_column_bytes(all_, 1) == 6) {
      std::array<std::uint8_t, 6> o{};
      std::copy_n(mac, 6, o.begin());
      l.mac = MacAddress{o};
    }
    const auto* cid = static_cast<const std::uint8_t*>(sqlite3_column_blob(all_, 2));
    if (cid != nullptr) l.client_id.assign(cid, cid + sqlite3_column_bytes(all_, 2));
    const auto* host = sqlite3_column_text(all_, 3);
    if (host != nullptr) l.hostname = reinterpret_cast<const char*>(host);
    int state = sqlite3_column_int(all_, 4);
    if (state < 1 || state > 3) continue;  // a row from a newer version we do not understand
    l.state = static_cast<LeaseState>(state);
    l.expires_at = sqlite3_column_int64(all_, 5);
    out.push_back(std::move(l));
  }
  if (rc != SQLITE_DONE) fail("read");
  return out;
}

void SqliteLeaseStore::begin_batch() { batching_ = true; }

// The transaction starts with the batch's first write, so a turn that wrote
// nothing costs no fsync.
void SqliteLeaseStore::join_batch() {
  if (!batching_ || sqlite3_get_autocommit(db_) == 0) return;
  // Back in autocommit mid-batch: an error made SQLite roll the batch's earlier writes back.
  if (in_transaction_) batch_lost_ = true;
  exec("BEGIN IMMEDIATE");
  in_transaction_ = true;
}

void SqliteLeaseStore::commit_batch() {
  batching_ = false;
  if (!in_transaction_) return;  // nothing written
  in_transaction_ = false;
  const bool lost = std::exchange(batch_lost_, false) || sqlite3_get_autocommit(db_) != 0;
  std::string msg;
  if (!lost) {
    char* err = nullptr;
    if (sqlite3_exec(db_, "COMMIT", nullptr, nullptr, &err) == SQLITE_OK) return;
    msg = err ? err : "unknown error";
    sqlite3_free(err);
  } else {
    msg = "an earlier write failed and SQLite rolled the batch back";
  }
  if (sqlite3_get_autocommit(db_) == 0) sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
  throw StoreError("lease database: commit: " + msg);
}

void SqliteLeaseStore::put(const Lease& l) {
  join_batch();
  StatementReset reset{put_};
  sqlite3_bind_int64(put_, 1, l.address.value());
  sqlite3_bind_blob(put_, 2, l.mac.octets().data(), 6, SQLITE_STATIC);
  // An empty vector's data() may be null, which SQLite would store as NULL.
  static const std::uint8_t kEmpty = 0;
  sqlite3_bind_blob(put_, 3, l.client_id.empty() ? &kEmpty : l.client_id.data(), static_cast<int>(l.client_id.size()),
                    SQLITE_STATIC);
  sqlite3_bind_text(put_, 4, l.hostname.c_str(), static_cast<int>(l.hostname.size()), SQLITE_STATIC);
  sqlite3_bind_int(put_, 5, static_cast<int>(l.state));
  sqlite3_bind_int64(put_, 6, l.expires_at);
  if (sqlite3_step(put_) != SQLITE_DONE) fail("write");
}

void SqliteLeaseStore::erase(Ipv4 address) {
  join_batch();
  StatementReset reset{erase_};
  sqlite3_bind_int64(erase_, 1, address.value());
  if (sqlite3_step(erase_) != SQLITE_DONE) fail("delete");
}

}  // namespace ramfleet::store
