#include "inventory/machine_store.hpp"

#include <sqlite3.h>

#include <algorithm>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string_view>
#include <unordered_map>

namespace ramfleet::inventory {

using json = nlohmann::json;

std::optional<Phase> phase_from_string(std::string_view s) {
  if (s == "booted") return Phase::booted;
  if (s == "configured") return Phase::configured;
  if (s == "ready") return Phase::ready;
  if (s == "error") return Phase::error;
  return std::nullopt;
}

std::string_view to_string(Phase p) {
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

namespace {
// RAII prepared statement; errors become exceptions naming the SQL.
class Stmt {
 public:
  Stmt(sqlite3* db, const char* sql) : db_(db) {
    if (sqlite3_prepare_v2(db, sql, -1, &st_, nullptr) != SQLITE_OK)
      throw std::runtime_error(std::string("sqlite prepare: ") + sqlite3_errmsg(db));
  }
  ~Stmt() { sqlite3_finalize(st_); }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;
  Stmt& bind(int i, const std::string& s) {
    sqlite3_bind_text(st_, i, s.data(), static_cast<int>(s.size()), SQLITE_TRANSIENT);
    return *this;
  }
  // For strings that outlive the step (flush() binds pending_ records): no copy.
  Stmt& bind_static(int i, const std::string& s) {
    sqlite3_bind_text(st_, i, s.data(), static_cast<int>(s.size()), SQLITE_STATIC);
    return *this;
  }
  Stmt& bind(int i, std::int64_t v) {
    sqlite3_bind_int64(st_, i, v);
    return *this;
  }
  Stmt& bind_null(int i) {
    sqlite3_bind_null(st_, i);
    return *this;
  }
  Stmt& bind(int i, double v) {
    sqlite3_bind_double(st_, i, v);
    return *this;
  }
  bool step() {
    int rc = sqlite3_step(st_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    throw std::runtime_error(std::string("sqlite step: ") + sqlite3_errmsg(db_));
  }
  void reset() {
    sqlite3_reset(st_);
    sqlite3_clear_bindings(st_);
  }
  std::string text(int i) {
    auto p = sqlite3_column_text(st_, i);
    return p ? std::string(reinterpret_cast<const char*>(p), static_cast<std::size_t>(sqlite3_column_bytes(st_, i)))
             : std::string{};
  }
  std::int64_t i64(int i) { return sqlite3_column_int64(st_, i); }
  bool null(int i) { return sqlite3_column_type(st_, i) == SQLITE_NULL; }
  json value(int i) {
    switch (sqlite3_column_type(st_, i)) {
      case SQLITE_INTEGER:
        return sqlite3_column_int64(st_, i);
      case SQLITE_FLOAT:
        return sqlite3_column_double(st_, i);
      case SQLITE_NULL:
        return nullptr;
      case SQLITE_BLOB:
        return "<" + std::to_string(sqlite3_column_bytes(st_, i)) + " bytes>";
      default:
        return text(i);
    }
  }
  sqlite3_stmt* raw() { return st_; }

 private:
  sqlite3* db_;
  sqlite3_stmt* st_ = nullptr;
};

constexpr std::size_t kBootHistory = 100;
constexpr std::int64_t kTrimEvery = 16;

json parse_object(const std::string& s) {
  auto j = json::parse(s, nullptr, false);
  return j.is_discarded() ? json::object() : j;
}
}  // namespace

MachineStore::MachineStore(const std::filesystem::path& db_path) : path_(db_path.string()) {
  if (sqlite3_open_v2(path_.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr) != SQLITE_OK) {
    std::string msg = db_ ? sqlite3_errmsg(db_) : "out of memory";
    sqlite3_close(db_);
    db_ = nullptr;
    throw std::runtime_error("cannot open machine store " + path_ + ": " + msg);
  }
  try {
    sqlite3_busy_timeout(db_, 2000);
    exec("PRAGMA journal_mode=WAL");
    exec("PRAGMA synchronous=NORMAL");
    // Every batch of boots touches pages all over the boots index and the
    // machines table. A 32 MiB page cache keeps them from being read back
    // (pread) after each commit, and checkpointing every 4096 pages instead of
    // 1000 copies a page rewritten by several batches to the database once.
    exec("PRAGMA cache_size=-32768");
    exec("PRAGMA wal_autocheckpoint=4096");
    exec(
        "CREATE TABLE IF NOT EXISTS machines(id TEXT PRIMARY KEY, facts TEXT NOT NULL, grp TEXT, profile TEXT,"
        " decision TEXT NOT NULL, reason TEXT, first_seen_ms INTEGER NOT NULL, last_seen_ms INTEGER NOT NULL,"
        " boots INTEGER NOT NULL DEFAULT 0)");
    exec(
        "CREATE TABLE IF NOT EXISTS boots(seq INTEGER PRIMARY KEY AUTOINCREMENT, machine_id TEXT NOT NULL,"
        " at_ms INTEGER NOT NULL, grp TEXT, profile TEXT, decision TEXT NOT NULL, reason TEXT)");
    exec("CREATE INDEX IF NOT EXISTS boots_by_machine ON boots(machine_id, seq)");
    exec(
        "CREATE TABLE IF NOT EXISTS events(seq INTEGER PRIMARY KEY AUTOINCREMENT, machine_id TEXT NOT NULL,"
        " at_ms INTEGER NOT NULL, phase TEXT NOT NULL, message TEXT, uptime REAL, root_bytes INTEGER)");
    exec("CREATE INDEX IF NOT EXISTS events_by_machine ON events(machine_id, seq)");
  } catch (const std::exception& e) {
    sqlite3_close(db_);
    db_ = nullptr;
    throw std::runtime_error("cannot initialise machine store " + path_ + ": " + e.what());
  }
}

MachineStore::~MachineStore() {
  try {
    flush();
  } catch (...) {
    // Nothing useful to do while shutting down; the boots are also in the log.
  }
  prepared_.reset();  // finalize before closing
  sqlite3_close(db_);
}

void MachineStore::exec(const char* sql) {
  char* err = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = err ? err : "unknown error";
    sqlite3_free(err);
    throw std::runtime_error(msg);
  }
}

namespace {
// "VALUES(?1, ?2), (?3, ?4)" for `rows` rows of `cols` parameters each.
std::string values_clause(std::size_t rows, std::size_t cols) {
  std::string out = " VALUES";
  int n = 0;
  for (std::size_t r = 0; r < rows; ++r) {
    out += r ? ",(" : "(";
    for (std::size_t c = 0; c < cols; ++c) out += (c ? ",?" : "?") + std::to_string(++n);
    out += ")";
  }
  return out;
}

// Multi-row statements: a statement's fixed cost (opening cursors, starting
// and ending it) is most of a one-row insert, so rows go up to kMaxRows at a
// time, in power-of-two chunks so that a handful of prepared statements serve
// any batch size.
constexpr std::size_t kMaxRows = 64;
}  // namespace

struct MachineStore::Prepared {
  // key: (statement kind, rows)
  std::map<std::pair<int, std::size_t>, std::unique_ptr<Stmt>> multi;
  std::unique_ptr<Stmt> prune;
};

namespace {
template <typename Item, typename BindRow>
void insert_rows(sqlite3* db, std::map<std::pair<int, std::size_t>, std::unique_ptr<Stmt>>& cache, int kind,
                 const std::string& head, const std::string& tail, std::size_t cols, const std::vector<Item>& items,
                 BindRow bind_row) {
  for (std::size_t at = 0; at < items.size();) {
    std::size_t n = kMaxRows;
    while (n > items.size() - at) n /= 2;
    auto& st = cache[{kind, n}];
    if (!st) st = std::make_unique<Stmt>(db, (head + values_clause(n, cols) + tail).c_str());
    for (std::size_t i = 0; i < n; ++i) bind_row(*st, static_cast<int>(i * cols), items[at + i]);
    st->step();
    st->reset();
    at += n;
  }
}
}  // namespace

void MachineStore::flush() {
  if (pending_.empty()) return;
  // A batch often holds several boots of one machine (a boot loop, a rack
  // powering on): its machines row is written once, from the newest record,
  // with the boot count added up. Every boot still gets its own history row.
  struct PerMachine {
    const BootRecord* first;
    const BootRecord* last;
    std::int64_t count;
  };
  std::unordered_map<std::string_view, std::size_t> index;
  std::vector<PerMachine> machines;
  index.reserve(pending_.size());
  for (const auto& r : pending_) {
    auto [it, fresh] = index.try_emplace(r.machine_id, machines.size());
    if (fresh) machines.push_back({&r, &r, 0});
    machines[it->second].last = &r;
    ++machines[it->second].count;
  }
  exec("BEGIN");
  try {
    if (!prepared_) prepared_ = std::make_unique<Prepared>();
    insert_rows(db_, prepared_->multi, 0, "INSERT INTO boots(machine_id, at_ms, grp, profile, decision, reason)", "", 6,
                pending_, [](Stmt& st, int b, const BootRecord& r) {
                  st.bind_static(b + 1, r.machine_id)
                      .bind(b + 2, r.at_ms)
                      .bind_static(b + 3, r.group)
                      .bind_static(b + 4, r.profile);
                  st.bind_static(b + 5, r.decision).bind_static(b + 6, r.reason);
                });
    insert_rows(db_, prepared_->multi, 1,
                "INSERT INTO machines(id, facts, grp, profile, decision, reason, first_seen_ms, last_seen_ms, boots)",
                " ON CONFLICT(id) DO UPDATE SET facts=excluded.facts, grp=excluded.grp, profile=excluded.profile,"
                " decision=excluded.decision, reason=excluded.reason, last_seen_ms=excluded.last_seen_ms,"
                " boots=boots+excluded.boots",
                9, machines, [](Stmt& st, int b, const PerMachine& m) {
                  const BootRecord& r = *m.last;
                  st.bind_static(b + 1, r.machine_id)
                      .bind_static(b + 2, r.facts_json)
                      .bind_static(b + 3, r.group)
                      .bind_static(b + 4, r.profile);
                  st.bind_static(b + 5, r.decision).bind_static(b + 6, r.reason).bind(b + 7, m.first->at_ms);
                  st.bind(b + 8, r.at_ms).bind(b + 9, m.count);
                });
    // Keep the newest kBootHistory boots per machine, so a boot loop cannot grow
    // the file forever. Trimming walks the machine's index, so it runs at a
    // machine's first boot after start and then every kTrimEvery boots: a
    // machine has at most kTrimEvery rows more than kBootHistory.
    if (since_trim_.size() > (1U << 20)) since_trim_.clear();  // bounded; a cleared machine trims on its next boot
    for (const auto& m : machines) {
      auto [it, fresh] = since_trim_.try_emplace(m.last->machine_id, 0);
      it->second += m.count;
      if (!fresh && it->second < kTrimEvery) continue;
      it->second = 0;
      auto& prune = prepared_->prune;
      if (!prune) {
        prune = std::make_unique<Stmt>(db_,
                                       "DELETE FROM boots WHERE machine_id=?1 AND seq <= (SELECT seq FROM boots WHERE"
                                       " machine_id=?1 ORDER BY seq DESC LIMIT 1 OFFSET ?2)");
      }
      prune->bind(1, m.last->machine_id).bind(2, static_cast<std::int64_t>(kBootHistory));
      prune->step();
      prune->reset();
    }
    exec("COMMIT");
  } catch (...) {
    exec("ROLLBACK");
    throw;
  }
  pending_.clear();
}

bool MachineStore::known(const std::string& id) {
  Stmt q(db_, "SELECT 1 FROM machines WHERE id=?1");
  q.bind(1, id);
  return q.step();
}

bool MachineStore::add_event(const NodeEvent& e) {
  flush();
  if (!known(e.machine_id)) return false;
  Stmt ins(db_,
           "INSERT INTO events(machine_id, at_ms, phase, message, uptime, root_bytes) VALUES(?1, ?2, ?3, ?4, ?5, ?6)");
  ins.bind(1, e.machine_id).bind(2, e.at_ms).bind(3, std::string(to_string(e.phase))).bind(4, e.message);
  if (e.uptime) {
    ins.bind(5, *e.uptime);
  } else {
    ins.bind_null(5);
  }
  if (e.root_bytes) {
    ins.bind(6, *e.root_bytes);
  } else {
    ins.bind_null(6);
  }
  ins.step();
  return true;
}

namespace {
json machine_row(Stmt& q) {
  json m;
  m["id"] = q.text(0);
  m["facts"] = parse_object(q.text(1));
  m["group"] = q.null(2) || q.text(2).empty() ? json(nullptr) : json(q.text(2));
  m["profile"] = q.null(3) || q.text(3).empty() ? json(nullptr) : json(q.text(3));
  m["decision"] = q.text(4);
  m["discovered"] = q.text(4) != "group";
  m["reason"] = q.text(5);
  m["first_seen_ms"] = q.i64(6);
  m["last_seen_ms"] = q.i64(7);
  m["boots"] = q.i64(8);
  m["last_phase"] = q.null(9) ? json(nullptr) : json(q.text(9));
  return m;
}
constexpr const char* kMachineColumns =
    "SELECT id, facts, grp, profile, decision, reason, first_seen_ms, last_seen_ms, boots,"
    " (SELECT phase FROM events e WHERE e.machine_id = machines.id ORDER BY seq DESC LIMIT 1) FROM machines";
}  // namespace

json MachineStore::machines() {
  flush();
  json out = json::array();
  Stmt q(db_, (std::string(kMachineColumns) + " ORDER BY id").c_str());
  while (q.step()) out.push_back(machine_row(q));
  return out;
}

std::optional<json> MachineStore::machine(const std::string& id, std::size_t history) {
  flush();
  Stmt q(db_, (std::string(kMachineColumns) + " WHERE id=?1").c_str());
  q.bind(1, id);
  if (!q.step()) return std::nullopt;
  json m = machine_row(q);
  json boots = json::array();
  Stmt b(db_, "SELECT at_ms, grp, profile, decision, reason FROM boots WHERE machine_id=?1 ORDER BY seq DESC LIMIT ?2");
  b.bind(1, id).bind(2, static_cast<std::int64_t>(history));
  while (b.step()) {
    boots.push_back({{"at_ms", b.i64(0)},
                     {"group", b.text(1).empty() ? json(nullptr) : json(b.text(1))},
                     {"profile", b.text(2).empty() ? json(nullptr) : json(b.text(2))},
                     {"decision", b.text(3)},
                     {"reason", b.text(4)}});
  }
  m["boot_history"] = std::move(boots);
  m["events"] = *events(id, history);
  return m;
}

std::optional<json> MachineStore::events(const std::string& id, std::size_t limit) {
  flush();
  if (!known(id)) return std::nullopt;
  json out = json::array();
  // Newest `limit` events, listed oldest first (the order they happened in).
  Stmt q(db_,
         "SELECT at_ms, phase, message, uptime, root_bytes FROM (SELECT * FROM events WHERE machine_id=?1"
         " ORDER BY seq DESC LIMIT ?2) ORDER BY seq");
  q.bind(1, id).bind(2, static_cast<std::int64_t>(limit));
  while (q.step()) {
    json e{{"at_ms", q.i64(0)}, {"phase", q.text(1)}};
    if (!q.null(2) && !q.text(2).empty()) e["message"] = q.text(2);
    if (!q.null(3)) e["uptime"] = q.value(3);
    if (!q.null(4)) e["root_bytes"] = q.i64(4);
    out.push_back(std::move(e));
  }
  return out;
}

namespace {
// The lease store's layout (src/store/sqlite_lease_store.cpp): address as a
// host-order integer, mac and client_id as blobs, state 1..3. Shown the way an
// operator reads them; any other column is passed through.
json lease_value(Stmt& q, int i) {
  const std::string name = sqlite3_column_name(q.raw(), i);
  const int type = sqlite3_column_type(q.raw(), i);
  if (name == "address" && type == SQLITE_INTEGER) {
    auto v = static_cast<std::uint32_t>(q.i64(i));
    return std::to_string(v >> 24) + "." + std::to_string((v >> 16) & 255) + "." + std::to_string((v >> 8) & 255) +
           "." + std::to_string(v & 255);
  }
  if ((name == "mac" || name == "client_id") && type == SQLITE_BLOB) {
    const auto* p = static_cast<const unsigned char*>(sqlite3_column_blob(q.raw(), i));
    const int len = sqlite3_column_bytes(q.raw(), i);
    std::string out;
    static constexpr char kHex[] = "0123456789abcdef";
    for (int k = 0; k < len; ++k) {
      if (name == "mac" && k > 0) out.push_back(':');
      out.push_back(kHex[p[k] >> 4]);
      out.push_back(kHex[p[k] & 15]);
    }
    return out;
  }
  if (name == "state" && type == SQLITE_INTEGER) {
    switch (q.i64(i)) {
      case 1:
        return "bound";
      case 2:
        return "released";
      case 3:
        return "declined";
      default:
        return q.i64(i);
    }
  }
  return q.value(i);
}
}  // namespace

json read_leases(const std::filesystem::path& leases_db) {
  json out = json::array();
  std::error_code ec;
  if (!std::filesystem::exists(leases_db, ec)) return out;
  sqlite3* db = nullptr;
  const std::string uri = "file:" + leases_db.string() + "?mode=ro";
  if (sqlite3_open_v2(uri.c_str(), &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI, nullptr) != SQLITE_OK) {
    sqlite3_close(db);
    return out;
  }
  sqlite3_busy_timeout(db, 200);
  try {
    Stmt t(db, "SELECT 1 FROM sqlite_master WHERE type='table' AND name='leases'");
    if (t.step()) {
      Stmt q(db, "SELECT * FROM leases");
      const int n = sqlite3_column_count(q.raw());
      while (q.step()) {
        json row = json::object();
        for (int i = 0; i < n; ++i) row[sqlite3_column_name(q.raw(), i)] = lease_value(q, i);
        out.push_back(std::move(row));
      }
    }
  } catch (const std::exception&) {
    out = json::array();  // a lease DB mid-migration is not our error to report
  }
  sqlite3_close(db);
  return out;
}

}  // namespace ramfleet::inventory
