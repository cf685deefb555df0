#include "store/sqlite_machine_store.hpp"

#include <algorithm>
#include <chrono>
#include <nlohmann/json.hpp>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/hex.hpp"
#include "core/log.hpp"

namespace ramfleet::store {

using json = nlohmann::json;
using boot::BootRecord;

namespace {

std::int64_t wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

constexpr std::int64_t kTrimEvery = 16;

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

enum Kind { kBoots = 0, kMachines = 1, kTrimBoots = 2, kForget = 3, kCountMachines = 4 };

const std::string kBootsHead = "INSERT INTO boots(machine_id, at_ms, grp, profile, decision, reason)";
const std::string kMachinesHead =
    "INSERT INTO machines(id, facts, grp, profile, decision, reason, first_seen_ms, last_seen_ms, boots)";
const std::string kMachinesTail =
    " ON CONFLICT(id) DO UPDATE SET facts=excluded.facts, grp=excluded.grp, profile=excluded.profile,"
    " decision=excluded.decision, reason=excluded.reason, last_seen_ms=excluded.last_seen_ms,"
    " boots=boots+excluded.boots";

// An unknown machine: no group matched it. The partial index below serves
// every query with exactly this condition.
constexpr const char* kUnknown = "decision != 'group'";

json parse_object(const std::string& s) {
  auto j = json::parse(s, nullptr, false);
  return j.is_discarded() ? json::object() : j;
}

constexpr const char* kMachineColumns =
    "SELECT id, facts, grp, profile, decision, reason, first_seen_ms, last_seen_ms, boots,"
    " (SELECT phase FROM events e WHERE e.machine_id = machines.id ORDER BY seq DESC LIMIT 1) FROM machines";

json machine_row(const sqlite::Run& q) {
  json m;
  m["id"] = q.text(0);
  m["facts"] = parse_object(q.text(1));
  m["group"] = q.text(2).empty() ? json(nullptr) : json(q.text(2));
  m["profile"] = q.text(3).empty() ? json(nullptr) : json(q.text(3));
  m["decision"] = q.text(4);
  m["discovered"] = q.text(4) != "group";
  m["reason"] = q.text(5);
  m["first_seen_ms"] = q.i64(6);
  m["last_seen_ms"] = q.i64(7);
  m["boots"] = q.i64(8);
  m["last_phase"] = q.is_null(9) ? json(nullptr) : json(q.text(9));
  return m;
}

json column_value(const sqlite::Run& q, int i) {
  switch (q.type(i)) {
    case SQLITE_INTEGER:
      return q.i64(i);
    case SQLITE_FLOAT:
      return q.f64(i);
    case SQLITE_NULL:
      return nullptr;
    case SQLITE_BLOB:
      return "<" + std::to_string(q.blob(i).size()) + " bytes>";
    default:
      return q.text(i);
  }
}

}  // namespace

struct SqliteMachineStore::PerMachine {
  const BootRecord* first;
  const BootRecord* last;
  std::int64_t count;
};

std::unique_ptr<SqliteMachineStore> SqliteMachineStore::open(const std::filesystem::path& state_dir,
                                                             boot::MachineStoreLimits limits) {
  sqlite::ensure_private_dir(state_dir);
  return std::make_unique<SqliteMachineStore>(state_dir / "ramfleet.db", limits);
}

namespace {
sqlite::Db open_db(const std::filesystem::path& file, const boot::MachineStoreLimits& limits) {
  try {
    sqlite::OpenOptions o;
    o.synchronous = sqlite::Synchronous::normal;
    o.max_bytes = limits.max_db_bytes;
    o.busy_timeout = limits.busy_timeout;
    auto db = sqlite::Db::open(file, o);
    // Every batch of boots touches pages all over the boots index and the
    // machines table. A 32 MiB page cache keeps them from being read back
    // (pread) after each commit, and checkpointing every 4096 pages instead of
    // 1000 copies a page rewritten by several batches to the database once.
    db.exec("PRAGMA cache_size=-32768");
    db.exec("PRAGMA wal_autocheckpoint=4096");
    db.exec(
        "CREATE TABLE IF NOT EXISTS machines(id TEXT PRIMARY KEY, facts TEXT NOT NULL, grp TEXT, profile TEXT,"
        " decision TEXT NOT NULL, reason TEXT, first_seen_ms INTEGER NOT NULL, last_seen_ms INTEGER NOT NULL,"
        " boots INTEGER NOT NULL DEFAULT 0)");
    db.exec(std::string("CREATE INDEX IF NOT EXISTS machines_unknown ON machines(last_seen_ms) WHERE ") + kUnknown);
    db.exec(
        "CREATE TABLE IF NOT EXISTS boots(seq INTEGER PRIMARY KEY AUTOINCREMENT, machine_id TEXT NOT NULL,"
        " at_ms INTEGER NOT NULL, grp TEXT, profile TEXT, decision TEXT NOT NULL, reason TEXT)");
    db.exec("CREATE INDEX IF NOT EXISTS boots_by_machine ON boots(machine_id, seq)");
    db.exec(
        "CREATE TABLE IF NOT EXISTS events(seq INTEGER PRIMARY KEY AUTOINCREMENT, machine_id TEXT NOT NULL,"
        " at_ms INTEGER NOT NULL, phase TEXT NOT NULL, message TEXT, uptime REAL, root_bytes INTEGER)");
    db.exec("CREATE INDEX IF NOT EXISTS events_by_machine ON events(machine_id, seq)");
    db.exec("CREATE INDEX IF NOT EXISTS events_by_time ON events(at_ms)");
    return db;
  } catch (const std::exception& e) {
    throw std::runtime_error("cannot open machine store " + file.string() + ": " + e.what());
  }
}
}  // namespace

SqliteMachineStore::SqliteMachineStore(const std::filesystem::path& db_file, boot::MachineStoreLimits limits)
    : path_(db_file.string()), limits_(limits), db_(open_db(db_file, limits)), last_maintenance_ms_(0) {}

SqliteMachineStore::~SqliteMachineStore() {
  flush();              // logs on failure; the boots are also in the log
  statements_.clear();  // finalize before the connection closes
  std::lock_guard lock(read_mu_);
  reader_.reset();
}

void SqliteMachineStore::count(std::string_view name, std::uint64_t by) {
  auto it = counters_.find(name);
  if (it == counters_.end()) {
    counters_.emplace(std::string(name), by);
  } else {
    it->second += by;
  }
}

// Counted every time, logged at most once per log_interval (a full disk fails
// every flush, twice a second).
void SqliteMachineStore::failed(std::string_view what, const std::exception& e) {
  const std::int64_t now = wall_ms();
  count(std::string("store.") + std::string(what) + "_failed");
  ok_ = false;
  last_error_ = e.what();
  last_error_at_ms_ = now;
  ++failures_since_log_;
  if (last_failure_log_ms_ == 0 || now - last_failure_log_ms_ >= limits_.log_interval.count()) {
    log::error("store." + std::string(what) + "_failed",
               {{"error", last_error_}, {"failures", failures_since_log_}, {"pending_boots", pending_.size()}});
    last_failure_log_ms_ = now;
    failures_since_log_ = 0;
  }
}

void SqliteMachineStore::record_boot(BootRecord r) {
  if (limits_.max_pending_boots == 0) return;
  while (pending_.size() >= limits_.max_pending_boots) {
    pending_.pop_front();  // the oldest: the newest boot says more about the machine now
    count("store.boots_dropped");
    ++drops_since_log_;
  }
  pending_.push_back(std::move(r));
  if (drops_since_log_ > 0) {
    const std::int64_t now = wall_ms();
    if (last_drop_log_ms_ == 0 || now - last_drop_log_ms_ >= limits_.log_interval.count()) {
      log::warn("store.boots_dropped", {{"dropped", drops_since_log_},
                                        {"limit", limits_.max_pending_boots},
                                        {"why", "boots are queued faster than the database takes them"}});
      last_drop_log_ms_ = now;
      drops_since_log_ = 0;
    }
  }
}

sqlite::Statement& SqliteMachineStore::cached(int kind, std::size_t rows, const std::string& sql) {
  auto it = statements_.find({kind, rows});
  if (it == statements_.end()) it = statements_.emplace(std::pair{kind, rows}, sqlite::Statement(db_, sql)).first;
  return it->second;
}

bool SqliteMachineStore::flush() {
  const std::int64_t now = wall_ms();
  if (now - last_maintenance_ms_ >= limits_.maintenance_interval.count()) {
    last_maintenance_ms_ = now;
    try {
      maintain();
    } catch (const std::exception& e) {
      failed("maintenance", e);
    }
  }
  if (pending_.empty()) return true;
  try {
    write_pending();
  } catch (const std::exception& e) {
    // Nothing was written (the transaction rolled back): the boots stay queued
    // and the next flush retries them with freshly bound statements.
    failed("flush", e);
    return false;
  }
  pending_.clear();
  count("store.flushes");
  ok_ = true;
  return true;
}

void SqliteMachineStore::write_pending() {
  // A batch often holds several boots of one machine (a boot loop, a rack
  // powering on): its machines row is written once, from the newest record,
  // with the boot count added up. Every boot still gets its own history row.
  std::unordered_map<std::string_view, std::size_t> index;
  std::vector<PerMachine> machines;
  index.reserve(pending_.size());
  for (const auto& r : pending_) {
    auto [it, fresh] = index.try_emplace(r.machine_id, machines.size());
    if (fresh) machines.push_back({&r, &r, 0});
    machines[it->second].last = &r;
    ++machines[it->second].count;
  }
  sqlite::Transaction tx(db_);
  for (std::size_t at = 0; at < pending_.size();) {
    std::size_t n = kMaxRows;
    while (n > pending_.size() - at) n /= 2;
    auto run = cached(kBoots, n, kBootsHead + values_clause(n, 6)).run();
    for (std::size_t i = 0; i < n; ++i) {
      const BootRecord& r = pending_[at + i];
      const int b = static_cast<int>(i * 6);
      run.bind(b + 1, r.machine_id).bind(b + 2, r.at_ms).bind(b + 3, r.group).bind(b + 4, r.profile);
      run.bind(b + 5, r.decision).bind(b + 6, r.reason);
    }
    run.done();
    at += n;
  }
  for (std::size_t at = 0; at < machines.size();) {
    std::size_t n = kMaxRows;
    while (n > machines.size() - at) n /= 2;
    auto run = cached(kMachines, n, kMachinesHead + values_clause(n, 9) + kMachinesTail).run();
    for (std::size_t i = 0; i < n; ++i) {
      const PerMachine& m = machines[at + i];
      const BootRecord& r = *m.last;
      const int b = static_cast<int>(i * 9);
      run.bind(b + 1, r.machine_id).bind(b + 2, r.facts_json).bind(b + 3, r.group).bind(b + 4, r.profile);
      run.bind(b + 5, r.decision).bind(b + 6, r.reason).bind(b + 7, m.first->at_ms);
      run.bind(b + 8, r.at_ms).bind(b + 9, m.count);
    }
    run.done();
    at += n;
  }
  // Keep the newest boot_history boots per machine, so a boot loop cannot grow
  // the file forever. Trimming walks the machine's index, so it runs at a
  // machine's first boot after start and then every kTrimEvery boots: a
  // machine has at most kTrimEvery rows more than boot_history.
  if (since_trim_.size() > (1U << 20)) since_trim_.clear();  // bounded; a cleared machine trims on its next boot
  std::vector<std::string> trimmed;
  std::uint64_t trimmed_rows = 0;
  for (const auto& m : machines) {
    auto [it, fresh] = since_trim_.try_emplace(m.last->machine_id, 0);
    if (!fresh && it->second + m.count < kTrimEvery) continue;
    trimmed.push_back(m.last->machine_id);
    auto run = cached(kTrimBoots, 0,
                      "DELETE FROM boots WHERE machine_id=?1 AND seq <= (SELECT seq FROM boots WHERE"
                      " machine_id=?1 ORDER BY seq DESC LIMIT 1 OFFSET ?2)")
                   .run();
    run.bind(1, m.last->machine_id).bind(2, static_cast<std::int64_t>(limits_.boot_history));
    run.done();
    trimmed_rows += static_cast<std::uint64_t>(db_.changes());
  }
  prune_unknown_over_cap();
  tx.commit();
  // Only now that the batch is committed: a failed batch is retried whole.
  for (const auto& m : machines) since_trim_[m.last->machine_id] += m.count;
  for (const auto& id : trimmed) since_trim_[id] = 0;
  if (trimmed_rows) count("store.pruned.boots", trimmed_rows);
}

// Deletes a machine with its boots and events; returns the rows deleted.
std::size_t SqliteMachineStore::forget_machine(const std::string& id) {
  std::size_t rows = 0;
  std::size_t k = 0;
  for (const char* sql : {"DELETE FROM boots WHERE machine_id=?1", "DELETE FROM events WHERE machine_id=?1",
                          "DELETE FROM machines WHERE id=?1"}) {
    cached(kForget, k++, sql).run().bind(1, id).done();
    rows += static_cast<std::size_t>(db_.changes());
  }
  since_trim_.erase(id);
  return rows;
}

// Anyone on the boot network can invent machines (a MAC per /ipxe request):
// beyond max_unknown_machines the least recently seen unknown ones go, inside
// the flush's transaction so the cap holds at every commit.
void SqliteMachineStore::prune_unknown_over_cap() {
  std::int64_t unknown = 0;
  {
    sqlite::Statement q(db_, std::string("SELECT count(*) FROM machines WHERE ") + kUnknown);
    auto r = q.run();
    if (r.step()) unknown = r.i64(0);
  }
  const auto cap = static_cast<std::int64_t>(limits_.max_unknown_machines);
  if (unknown <= cap) return;
  std::vector<std::string> victims;
  {
    sqlite::Statement q(db_,
                        std::string("SELECT id FROM machines WHERE ") + kUnknown + " ORDER BY last_seen_ms LIMIT ?1");
    auto r = q.run();
    r.bind(1, unknown - cap);
    while (r.step()) victims.push_back(r.text(0));
  }
  for (const auto& id : victims) forget_machine(id);
  count("store.pruned.unknown_machines", victims.size());
}

void SqliteMachineStore::maintain() {
  const std::int64_t now = wall_ms();
  sqlite::Transaction tx(db_);
  {
    sqlite::Statement q(db_, "DELETE FROM events WHERE at_ms < ?1");
    q.run().bind(1, now - limits_.event_max_age.count()).done();
  }
  const auto old_events = static_cast<std::uint64_t>(db_.changes());
  std::vector<std::string> stale;
  {
    sqlite::Statement q(db_, std::string("SELECT id FROM machines WHERE ") + kUnknown + " AND last_seen_ms < ?1");
    auto r = q.run();
    r.bind(1, now - limits_.unknown_max_age.count());
    while (r.step()) stale.push_back(r.text(0));
  }
  for (const auto& id : stale) forget_machine(id);
  tx.commit();
  if (old_events) count("store.pruned.events", old_events);
  if (!stale.empty()) count("store.pruned.unknown_machines", stale.size());
}

bool SqliteMachineStore::known(const std::string& id) {
  sqlite::Statement q(db_, "SELECT 1 FROM machines WHERE id=?1");
  auto r = q.run();
  r.bind(1, id);
  return r.step();
}

bool SqliteMachineStore::add_event(const boot::NodeEvent& e) {
  flush();
  if (!known(e.machine_id)) return false;
  // The 201 says the event is stored: this one commit is fsynced (FULL), the
  // boot batches stay NORMAL. Events are a few per boot, so the fsync is cheap.
  sqlite::SynchronousScope durable(db_, sqlite::Synchronous::full);
  sqlite::Transaction tx(db_);
  {
    sqlite::Statement ins(
        db_,
        "INSERT INTO events(machine_id, at_ms, phase, message, uptime, root_bytes) VALUES(?1, ?2, ?3, ?4, ?5, ?6)");
    auto r = ins.run();
    r.bind(1, e.machine_id).bind(2, e.at_ms).bind(3, boot::to_string(e.phase)).bind(4, e.message);
    r.bind(5, e.uptime).bind(6, e.root_bytes);
    r.done();
  }
  // Keep the newest events_per_machine: a node (or anyone posting as it)
  // cannot grow the file by reporting in a loop.
  {
    sqlite::Statement trim(db_,
                           "DELETE FROM events WHERE machine_id=?1 AND seq <= (SELECT seq FROM events WHERE"
                           " machine_id=?1 ORDER BY seq DESC LIMIT 1 OFFSET ?2)");
    trim.run().bind(1, e.machine_id).bind(2, static_cast<std::int64_t>(limits_.events_per_machine)).done();
  }
  const auto trimmed = static_cast<std::uint64_t>(db_.changes());
  tx.commit();
  if (trimmed) count("store.pruned.events", trimmed);
  return true;
}

boot::MachinePage SqliteMachineStore::machines_page(std::size_t limit, const std::string& after) {
  std::lock_guard lock(read_mu_);
  try {
    if (!reader_) {
      sqlite::OpenOptions o;
      o.read_only = true;
      o.busy_timeout = std::chrono::milliseconds(1000);
      reader_.emplace(sqlite::Db::open(path_, o));
    }
    boot::MachinePage page;
    // One row more than asked: whether there is a next page.
    sqlite::Statement q(*reader_, std::string(kMachineColumns) + " WHERE id > ?1 ORDER BY id LIMIT ?2");
    auto r = q.run();
    r.bind(1, after).bind(2, static_cast<std::int64_t>(limit) + 1);
    std::size_t n = 0;
    while (r.step()) {
      if (n++ == limit) {
        page.next = page.machines.back()["id"].get<std::string>();
        break;
      }
      page.machines.push_back(machine_row(r));
    }
    return page;
  } catch (const sqlite::Error&) {
    reader_.reset();  // reopened by the next read (the file may have been replaced)
    throw;
  }
}

std::optional<json> SqliteMachineStore::machine(const std::string& id, std::size_t history) {
  flush();
  json m;
  {
    sqlite::Statement q(db_, std::string(kMachineColumns) + " WHERE id=?1");
    auto r = q.run();
    r.bind(1, id);
    if (!r.step()) return std::nullopt;
    m = machine_row(r);
  }
  json boots = json::array();
  sqlite::Statement b(
      db_, "SELECT at_ms, grp, profile, decision, reason FROM boots WHERE machine_id=?1 ORDER BY seq DESC LIMIT ?2");
  auto r = b.run();
  r.bind(1, id).bind(2, static_cast<std::int64_t>(history));
  while (r.step()) {
    boots.push_back({{"at_ms", r.i64(0)},
                     {"group", r.text(1).empty() ? json(nullptr) : json(r.text(1))},
                     {"profile", r.text(2).empty() ? json(nullptr) : json(r.text(2))},
                     {"decision", r.text(3)},
                     {"reason", r.text(4)}});
  }
  m["boot_history"] = std::move(boots);
  m["events"] = *events(id, history);
  return m;
}

std::optional<json> SqliteMachineStore::events(const std::string& id, std::size_t limit) {
  flush();
  if (!known(id)) return std::nullopt;
  json out = json::array();
  // Newest `limit` events, listed oldest first (the order they happened in).
  sqlite::Statement q(db_,
                      "SELECT at_ms, phase, message, uptime, root_bytes FROM (SELECT * FROM events WHERE machine_id=?1"
                      " ORDER BY seq DESC LIMIT ?2) ORDER BY seq");
  auto r = q.run();
  r.bind(1, id).bind(2, static_cast<std::int64_t>(limit));
  while (r.step()) {
    json e{{"at_ms", r.i64(0)}, {"phase", r.text(1)}};
    if (!r.is_null(2) && !r.text(2).empty()) e["message"] = r.text(2);
    if (!r.is_null(3)) e["uptime"] = column_value(r, 3);
    if (!r.is_null(4)) e["root_bytes"] = r.i64(4);
    out.push_back(std::move(e));
  }
  return out;
}

std::uint64_t SqliteMachineStore::machine_count() {
  // On the writer's connection, on the loop: an index-only count (~1 ms for 10,000 machines, bench/metrics_bench.sh).
  auto& q = cached(kCountMachines, 0, "SELECT count(*) FROM machines");
  auto r = q.run();
  return r.step() ? static_cast<std::uint64_t>(r.i64(0)) : 0;
}

json SqliteMachineStore::health() const {
  json h{{"ok", ok_}, {"pending_boots", pending_.size()}, {"max_pending_boots", limits_.max_pending_boots}};
  h["last_error"] = last_error_.empty() ? json(nullptr) : json(last_error_);
  h["last_error_at_ms"] = last_error_at_ms_ == 0 ? json(nullptr) : json(last_error_at_ms_);
  for (const auto& [k, v] : counters_) h["counters"][k] = v;
  return h;
}

// --- leases.db, read for the API ----------------------------------------------------

namespace {
// The lease store's layout (store/sqlite_lease_store.cpp): address as a
// host-order integer, mac and client_id as blobs, state 1..3. Shown the way an
// operator reads them; any other column is passed through.
json lease_value(const sqlite::Run& q, int i) {
  const std::string_view name = q.column_name(i);
  const int type = q.type(i);
  if (name == "address" && type == SQLITE_INTEGER) {
    auto v = static_cast<std::uint32_t>(q.i64(i));
    return std::to_string(v >> 24) + "." + std::to_string((v >> 16) & 255) + "." + std::to_string((v >> 8) & 255) +
           "." + std::to_string(v & 255);
  }
  if ((name == "mac" || name == "client_id") && type == SQLITE_BLOB) {
    const auto bytes = q.blob(i);
    std::string out;
    for (std::size_t k = 0; k < bytes.size(); ++k) {
      if (name == "mac" && k > 0) out.push_back(':');
      append_hex(out, bytes[k]);
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
  return column_value(q, i);
}
}  // namespace

json read_leases(const std::filesystem::path& leases_db) {
  json out = json::array();
  std::error_code ec;
  if (!std::filesystem::exists(leases_db, ec)) return out;
  try {
    sqlite::OpenOptions o;
    o.read_only = true;
    o.busy_timeout = std::chrono::milliseconds(200);
    auto db = sqlite::Db::open(leases_db, o);
    sqlite::Statement t(db, "SELECT 1 FROM sqlite_master WHERE type='table' AND name='leases'");
    if (!t.run().step()) return out;
    sqlite::Statement q(db, "SELECT * FROM leases");
    auto r = q.run();
    while (r.step()) {
      json row = json::object();
      for (int i = 0; i < r.columns(); ++i) row[std::string(r.column_name(i))] = lease_value(r, i);
      out.push_back(std::move(row));
    }
  } catch (const std::exception&) {
    out = json::array();  // a lease DB mid-migration is not our error to report
  }
  return out;
}

}  // namespace ramfleet::store
