#include "store/sqlite_lease_store.hpp"

#include <algorithm>
#include <array>
#include <string>
#include <utility>

namespace ramfleet::store {

using dhcp::Lease;
using dhcp::LeaseState;
using dhcp::StoreError;

namespace {
// The DHCP core knows StoreError, not SQLite: the message (SQLite's own, with
// its code) is kept.
template <typename F>
auto translated(const char* what, F&& f) -> decltype(f()) {
  try {
    return f();
  } catch (const sqlite::Error& e) {
    throw StoreError(std::string("lease database ") + what + ": " + e.what());
  } catch (const std::runtime_error& e) {
    throw StoreError(std::string("lease database ") + what + ": " + e.what());
  }
}

sqlite::Db open_db(const std::filesystem::path& file) {
  return translated("open", [&] {
    auto db = sqlite::Db::open(file, sqlite::OpenOptions{});  // WAL, synchronous=FULL
    db.exec(
        "CREATE TABLE IF NOT EXISTS leases ("
        " address INTEGER PRIMARY KEY,"  // IPv4 in host order
        " mac BLOB NOT NULL,"
        " client_id BLOB NOT NULL,"
        " hostname TEXT NOT NULL,"
        " state INTEGER NOT NULL,"
        " expires_at INTEGER NOT NULL)");
    return db;
  });
}
}  // namespace

std::unique_ptr<SqliteLeaseStore> SqliteLeaseStore::open(const std::filesystem::path& state_dir) {
  translated("open", [&] { sqlite::ensure_private_dir(state_dir); });
  return std::make_unique<SqliteLeaseStore>(state_dir / "leases.db");
}

SqliteLeaseStore::SqliteLeaseStore(const std::filesystem::path& file) : db_(open_db(file)) {
  translated("prepare", [&] {
    put_.emplace(db_, "INSERT OR REPLACE INTO leases VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
    erase_.emplace(db_, "DELETE FROM leases WHERE address = ?1");
    all_.emplace(db_, "SELECT address, mac, client_id, hostname, state, expires_at FROM leases ORDER BY address");
  });
}

SqliteLeaseStore::~SqliteLeaseStore() {
  batch_.reset();  // an uncommitted batch is rolled back: no ACK was sent for it
  put_.reset();
  erase_.reset();
  all_.reset();
}

std::vector<Lease> SqliteLeaseStore::load_all() {
  return translated("read", [&] {
    std::vector<Lease> out;
    auto r = all_->run();
    while (r.step()) {
      Lease l;
      l.address = Ipv4{static_cast<std::uint32_t>(r.i64(0))};
      const auto mac = r.blob(1);
      if (mac.size() == 6) {
        std::array<std::uint8_t, 6> o{};
        std::copy_n(mac.begin(), 6, o.begin());
        l.mac = MacAddress{o};
      }
      l.client_id = r.blob(2);
      l.hostname = r.text(3);
      const auto state = r.i64(4);
      if (state < 1 || state > 3) continue;  // a row from a newer version we do not understand
      l.state = static_cast<LeaseState>(state);
      l.expires_at = r.i64(5);
      out.push_back(std::move(l));
    }
    return out;
  });
}

void SqliteLeaseStore::begin_batch() { batching_ = true; }

// The transaction starts with the batch's first write, so a turn that wrote
// nothing costs no fsync.
void SqliteLeaseStore::join_batch() {
  if (!batching_ || db_.in_transaction()) return;
  // Back in autocommit mid-batch: an error made SQLite roll the batch's earlier writes back.
  if (batch_) {
    batch_lost_ = true;
    batch_.reset();
  }
  translated("begin", [&] { batch_.emplace(db_, sqlite::Begin::immediate); });
}

void SqliteLeaseStore::commit_batch() {
  batching_ = false;
  if (!batch_) return;  // nothing written
  if (std::exchange(batch_lost_, false)) {
    batch_.reset();  // rolls back what the batch still holds
    throw StoreError("lease database: commit: an earlier write failed and SQLite rolled the batch back");
  }
  translated("commit", [&] {
    // Whatever happens the batch is over; a failed commit is rolled back by the
    // Transaction's destructor.
    struct End {
      std::optional<sqlite::Transaction>& batch;
      ~End() { batch.reset(); }
    } end{batch_};
    batch_->commit();
  });
}

void SqliteLeaseStore::put(const Lease& l) {
  join_batch();
  translated("write", [&] {
    auto r = put_->run();
    r.bind(1, static_cast<std::int64_t>(l.address.value()));
    r.bind_blob(2, l.mac.octets());
    r.bind_blob(3, l.client_id);
    r.bind(4, l.hostname);
    r.bind(5, static_cast<std::int64_t>(l.state));
    r.bind(6, l.expires_at);
    r.done();
  });
}

void SqliteLeaseStore::erase(Ipv4 address) {
  join_batch();
  translated("delete", [&] { erase_->run().bind(1, static_cast<std::int64_t>(address.value())).done(); });
}

}  // namespace ramfleet::store
