// The machine store against real SQLite, including the two failures that made
// the old flush() read freed memory (issue 10): a database locked by another
// connection and a full database. Under the ASan preset a use-after-free is a
// test failure.
#include "store/sqlite_machine_store.hpp"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <set>
#include <string>
#include <thread>

#include "test_dir.hpp"

namespace ramfleet::store {
namespace {

using boot::BootRecord;
using boot::MachineStoreLimits;
using store::testing::fresh_dir;
using store::testing::mode_of;

std::string mac(int i) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "52:54:00:%02x:%02x:%02x", (i >> 16) & 255, (i >> 8) & 255, i & 255);
  return buf;
}

// Long strings everywhere: SQLITE_STATIC pointers into a reallocated queue
// then point into freed heap blocks, which ASan reports.
BootRecord boot(int i, const std::string& decision = "group") {
  BootRecord r;
  r.machine_id = mac(i);
  r.facts_json = R"({"mac":")" + mac(i) + R"(","padding":")" + std::string(64, 'p') + "\"}";
  r.group = decision == "group" ? "group-with-a-long-name-" + std::to_string(i) : "";
  r.profile = "profile-with-a-long-name-" + std::to_string(i);
  r.decision = decision;
  r.reason = "matched because of a long and detailed reason " + std::to_string(i);
  r.at_ms = 1'700'000'000'000 + i;
  return r;
}

struct MachineStoreTest : ::testing::Test {
  std::filesystem::path dir = fresh_dir("ramfleet-machines-");
  ~MachineStoreTest() override { std::filesystem::remove_all(dir); }
  static MachineStoreLimits quick() {
    MachineStoreLimits l;
    l.busy_timeout = std::chrono::milliseconds(20);
    return l;
  }
  std::set<std::string> ids(SqliteMachineStore& s) {
    std::set<std::string> out;
    for (const auto& m : s.machines_page(1000, "").machines) out.insert(m["id"].get<std::string>());
    return out;
  }
};

// Holds BEGIN EXCLUSIVE on a second connection to the same file.
struct Locker {
  sqlite3* db = nullptr;
  explicit Locker(const std::filesystem::path& file) {
    EXPECT_EQ(sqlite3_open(file.c_str(), &db), SQLITE_OK);
    EXPECT_EQ(sqlite3_exec(db, "BEGIN EXCLUSIVE", nullptr, nullptr, nullptr), SQLITE_OK);
  }
  ~Locker() { release(); }
  void release() {
    if (!db) return;
    sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr);
    sqlite3_close(db);
    db = nullptr;
  }
};

TEST_F(MachineStoreTest, LockedDatabaseFailsTheFlushThenTheNextFlushRetriesCleanly) {
  auto s = SqliteMachineStore::open(dir, quick());
  s->record_boot(boot(0));
  ASSERT_TRUE(s->flush());
  Locker lock(dir / "ramfleet.db");
  for (int i = 1; i <= 5; ++i) s->record_boot(boot(i));
  EXPECT_FALSE(s->flush());
  EXPECT_EQ(s->pending(), 5u) << "a failed flush keeps the boots for the next one";
  auto h = s->health();
  EXPECT_FALSE(h["ok"].get<bool>());
  EXPECT_NE(h["last_error"].get<std::string>().find("database is locked"), std::string::npos) << h.dump();
  EXPECT_EQ(s->counters().at("store.flush_failed"), 1u);
  lock.release();
  // More boots reallocate the queue: nothing may still point into the old one.
  for (int i = 6; i < 200; ++i) s->record_boot(boot(i));
  ASSERT_TRUE(s->flush());
  EXPECT_EQ(s->pending(), 0u);
  EXPECT_TRUE(s->health()["ok"].get<bool>());
  auto all = ids(*s);
  EXPECT_EQ(all.size(), 200u);
  auto m = s->machine(mac(3), 10);
  ASSERT_TRUE(m);
  EXPECT_EQ((*m)["reason"], boot(3).reason);
  EXPECT_EQ((*m)["group"], boot(3).group);
}

TEST_F(MachineStoreTest, FullDatabaseFailsTheFlushWithSqlitesErrorThenRecovers) {
  auto s = SqliteMachineStore::open(dir, quick());
  s->record_boot(boot(0));
  ASSERT_TRUE(s->flush());
  // A real SQLITE_FULL without root: the file may not grow past its size now.
  s->db().exec("PRAGMA max_page_count=1");
  for (int i = 1; i <= 300; ++i) s->record_boot(boot(i));
  EXPECT_FALSE(s->flush());
  EXPECT_EQ(s->pending(), 300u);
  const auto err = s->health()["last_error"].get<std::string>();
  EXPECT_NE(err.find("database or disk is full"), std::string::npos) << err;
  EXPECT_FALSE(s->flush()) << "still full: fails again, cleanly";
  EXPECT_EQ(s->counters().at("store.flush_failed"), 2u);
  s->db().set_max_bytes(0);  // space again
  for (int i = 301; i < 340; ++i) s->record_boot(boot(i));
  ASSERT_TRUE(s->flush());
  EXPECT_EQ(ids(*s).size(), 340u);
  auto m = s->machine(mac(150), 10);
  ASSERT_TRUE(m);
  EXPECT_EQ((*m)["profile"], boot(150).profile);
}

TEST_F(MachineStoreTest, PendingQueueIsBoundedAndDropsAreCounted) {
  auto limits = quick();
  limits.max_pending_boots = 100;
  auto s = SqliteMachineStore::open(dir, limits);
  Locker lock(dir / "ramfleet.db");
  for (int i = 0; i < 250; ++i) s->record_boot(boot(i));
  EXPECT_FALSE(s->flush());
  EXPECT_EQ(s->pending(), 100u);
  EXPECT_EQ(s->counters().at("store.boots_dropped"), 150u);
  lock.release();
  ASSERT_TRUE(s->flush());
  auto all = ids(*s);
  EXPECT_EQ(all.size(), 100u);
  EXPECT_TRUE(all.contains(mac(249))) << "the newest boots are kept";
  EXPECT_FALSE(all.contains(mac(0)));
}

TEST_F(MachineStoreTest, AFloodOfUnknownMachinesStaysBounded) {
  auto limits = quick();
  limits.max_unknown_machines = 50;
  auto s = SqliteMachineStore::open(dir, limits);
  for (int i = 0; i < 5; ++i) s->record_boot(boot(i, "group"));  // known machines: never pruned by the cap
  ASSERT_TRUE(s->flush());
  for (int round = 0; round < 20; ++round) {
    for (int i = 0; i < 100; ++i) s->record_boot(boot(1000 + round * 100 + i, "default_profile"));
    ASSERT_TRUE(s->flush());
    EXPECT_LE(ids(*s).size(), 55u) << "after round " << round;
  }
  auto all = ids(*s);
  EXPECT_EQ(all.size(), 55u);
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(all.contains(mac(i)));
  EXPECT_TRUE(all.contains(mac(1000 + 1999))) << "the most recently seen unknown machines stay";
  EXPECT_EQ(s->counters().at("store.pruned.unknown_machines"), 1950u);
  // Their boots went with them.
  auto db = sqlite::Db::open(dir / "ramfleet.db");
  sqlite::Statement q(db, "SELECT count(*) FROM boots");
  auto r = q.run();
  ASSERT_TRUE(r.step());
  EXPECT_EQ(r.i64(0), 55);
}

TEST_F(MachineStoreTest, EventsPerMachineAreCapped) {
  auto limits = quick();
  limits.events_per_machine = 10;
  auto s = SqliteMachineStore::open(dir, limits);
  s->record_boot(boot(1));
  ASSERT_TRUE(s->flush());
  for (int i = 0; i < 40; ++i) {
    boot::NodeEvent e;
    e.machine_id = mac(1);
    e.phase = boot::Phase::configured;
    e.message = "event " + std::to_string(i);
    e.at_ms = 1'700'000'000'000 + i;
    ASSERT_TRUE(s->add_event(e));
  }
  auto ev = s->events(mac(1), 1000);
  ASSERT_TRUE(ev);
  ASSERT_EQ(ev->size(), 10u);
  EXPECT_EQ((*ev)[9]["message"], "event 39");
  EXPECT_EQ((*ev)[0]["message"], "event 30");
  EXPECT_EQ(s->counters().at("store.pruned.events"), 30u);
}

TEST_F(MachineStoreTest, MaintenancePrunesOldEventsAndStaleUnknownMachines) {
  auto s = SqliteMachineStore::open(dir, quick());
  const auto now =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count();
  auto old_unknown = boot(1, "exit");
  old_unknown.at_ms = now - std::int64_t{40} * 24 * 3600 * 1000;  // 40 days ago
  auto old_known = boot(2, "group");
  old_known.at_ms = old_unknown.at_ms;
  auto fresh_unknown = boot(3, "exit");
  fresh_unknown.at_ms = now;
  s->record_boot(old_unknown);
  s->record_boot(old_known);
  s->record_boot(fresh_unknown);
  ASSERT_TRUE(s->flush());
  boot::NodeEvent old_event;
  old_event.machine_id = mac(2);
  old_event.at_ms = old_known.at_ms;
  ASSERT_TRUE(s->add_event(old_event));
  boot::NodeEvent new_event = old_event;
  new_event.at_ms = now;
  new_event.phase = boot::Phase::ready;
  ASSERT_TRUE(s->add_event(new_event));
  s->maintain();
  auto all = ids(*s);
  EXPECT_EQ(all, (std::set<std::string>{mac(2), mac(3)}));
  auto ev = s->events(mac(2), 10);
  ASSERT_EQ(ev->size(), 1u);
  EXPECT_EQ((*ev)[0]["phase"], "ready");
}

TEST_F(MachineStoreTest, PagesWalkEveryMachineOnceInIdOrder) {
  auto s = SqliteMachineStore::open(dir, quick());
  for (int i = 0; i < 25; ++i) s->record_boot(boot(i));
  ASSERT_TRUE(s->flush());
  std::vector<std::string> seen;
  std::string after;
  int pages = 0;
  for (;;) {
    auto page = s->machines_page(10, after);
    ++pages;
    for (const auto& m : page.machines) seen.push_back(m["id"]);
    if (!page.next) break;
    EXPECT_EQ(*page.next, seen.back());
    after = *page.next;
  }
  EXPECT_EQ(pages, 3);
  ASSERT_EQ(seen.size(), 25u);
  EXPECT_TRUE(std::is_sorted(seen.begin(), seen.end()));
  EXPECT_EQ(std::set<std::string>(seen.begin(), seen.end()).size(), 25u);
  // Exactly a page's worth: no empty extra page.
  auto exact = s->machines_page(25, "");
  EXPECT_EQ(exact.machines.size(), 25u);
  EXPECT_FALSE(exact.next);
}

TEST_F(MachineStoreTest, PagesAreReadFromAnotherThreadWhileTheOwnerWrites) {
  auto s = SqliteMachineStore::open(dir, quick());
  s->record_boot(boot(0));
  ASSERT_TRUE(s->flush());
  std::size_t last = 0;
  std::thread reader([&] {
    for (int i = 0; i < 50; ++i) last = s->machines_page(1000, "").machines.size();
  });
  for (int i = 1; i <= 200; ++i) {
    s->record_boot(boot(i));
    if (i % 20 == 0) {
      EXPECT_TRUE(s->flush());  // not ASSERT: the reader thread must be joined
    }
  }
  reader.join();
  EXPECT_GE(last, 1u);
  EXPECT_EQ(s->machines_page(1000, "").machines.size(), 201u);
}

TEST_F(MachineStoreTest, DatabaseFilesArePrivate) {
  const auto state = dir / "state";
  std::filesystem::create_directories(state);
  std::filesystem::permissions(state, std::filesystem::perms::all);
  ::umask(022);
  auto s = SqliteMachineStore::open(state, quick());
  s->record_boot(boot(1));
  ASSERT_TRUE(s->flush());
  EXPECT_EQ(mode_of(state), 0700u);
  EXPECT_EQ(mode_of(state / "ramfleet.db"), 0600u);
  EXPECT_EQ(mode_of(state / "ramfleet.db-wal"), 0600u);
  EXPECT_EQ(mode_of(state / "ramfleet.db-shm"), 0600u);
}

}  // namespace
}  // namespace ramfleet::store
