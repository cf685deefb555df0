// The SQLite wrapper's promises, each against real SQLite: statements reset on
// every exit path, binds copy, errors carry SQLite's message and code, a
// transaction rolls back only what is open, files are private.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <string>

#include "store/sqlite.hpp"
#include "test_dir.hpp"

namespace ramfleet::store::sqlite {
namespace {

using store::testing::fresh_dir;
using store::testing::mode_of;

struct SqliteTest : ::testing::Test {
  std::filesystem::path dir = fresh_dir("ramfleet-sqlite-");
  SqliteTest() { std::filesystem::create_directories(dir); }
  ~SqliteTest() override { std::filesystem::remove_all(dir); }
  OpenOptions quick() {
    OpenOptions o;
    o.busy_timeout = std::chrono::milliseconds(20);
    o.synchronous = Synchronous::normal;
    return o;
  }
};

TEST_F(SqliteTest, BindCopiesTheValue) {
  auto db = Db::open(dir / "a.db", quick());
  db.exec("CREATE TABLE t(v TEXT)");
  Statement ins(db, "INSERT INTO t VALUES(?1)");
  {
    auto run = ins.run();
    {
      std::string value(100, 'x');  // heap-allocated, gone before the step
      run.bind(1, value);
    }
    run.done();
  }
  Statement q(db, "SELECT v FROM t");
  auto r = q.run();
  ASSERT_TRUE(r.step());
  EXPECT_EQ(r.text(0), std::string(100, 'x'));
}

TEST_F(SqliteTest, StatementIsResetAndUnboundAfterAFailedStep) {
  auto db = Db::open(dir / "a.db", quick());
  db.exec("CREATE TABLE t(v TEXT NOT NULL UNIQUE)");
  Statement ins(db, "INSERT INTO t VALUES(?1)");
  ins.run().bind(1, "a").done();
  try {
    ins.run().bind(1, "a").done();  // UNIQUE violation
    FAIL() << "expected a constraint error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), SQLITE_CONSTRAINT);
    EXPECT_NE(std::string(e.what()).find("UNIQUE constraint failed"), std::string::npos) << e.what();
  }
  // Reusable at once, and the old binding is gone: an unbound ?1 is NULL.
  EXPECT_THROW(ins.run().done(), Error);  // NOT NULL
  ins.run().bind(1, "b").done();
  Statement q(db, "SELECT count(*) FROM t");
  auto r = q.run();
  ASSERT_TRUE(r.step());
  EXPECT_EQ(r.i64(0), 2);
}

TEST_F(SqliteTest, BindToAMissingParameterIsAnError) {
  auto db = Db::open(dir / "a.db", quick());
  db.exec("CREATE TABLE t(v)");
  Statement ins(db, "INSERT INTO t VALUES(?1)");
  try {
    ins.run().bind(2, std::int64_t{1});
    FAIL() << "expected SQLITE_RANGE";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), SQLITE_RANGE) << e.what();
  }
}

TEST_F(SqliteTest, LockedDatabaseIsAnErrorWithSqlitesMessage) {
  auto a = Db::open(dir / "a.db", quick());
  a.exec("CREATE TABLE t(v)");
  auto b = Db::open(dir / "a.db", quick());
  b.exec("BEGIN EXCLUSIVE");
  try {
    Transaction tx(a);
    FAIL() << "expected SQLITE_BUSY";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), SQLITE_BUSY);
    EXPECT_EQ(e.sqlite_message(), "database is locked");
  }
  EXPECT_FALSE(a.in_transaction());
  b.exec("COMMIT");
  Transaction tx(a);
  Statement(a, "INSERT INTO t VALUES(1)").run().done();
  tx.commit();
}

TEST_F(SqliteTest, FullDatabaseIsAnErrorAndTheTransactionRollsBack) {
  auto db = Db::open(dir / "a.db", quick());
  db.exec("CREATE TABLE t(v BLOB)");
  db.exec("INSERT INTO t VALUES(zeroblob(100))");
  db.set_max_bytes(16 * 4096);
  Statement ins(db, "INSERT INTO t VALUES(zeroblob(4000))");
  bool full = false;
  {
    Transaction tx(db);
    try {
      for (int i = 0; i < 100; ++i) ins.run().done();
      tx.commit();
    } catch (const Error& e) {
      full = true;
      EXPECT_EQ(e.code(), SQLITE_FULL) << e.what();
      EXPECT_NE(std::string(e.what()).find("full"), std::string::npos) << e.what();
    }
  }  // the destructor rolls back (or finds SQLite already did) without an error
  EXPECT_TRUE(full);
  EXPECT_FALSE(db.in_transaction());
  Statement q(db, "SELECT count(*) FROM t");
  auto r = q.run();
  ASSERT_TRUE(r.step());
  EXPECT_EQ(r.i64(0), 1) << "nothing of the failed transaction is kept";
}

std::int64_t synchronous_of(Db& db) {
  Statement q(db, "PRAGMA synchronous");
  auto r = q.run();
  return r.step() ? r.i64(0) : -1;
}

TEST_F(SqliteTest, SynchronousScopeRaisesAndRestoresTheLevel) {
  auto db = Db::open(dir / "a.db", quick());  // NORMAL (1)
  ASSERT_EQ(synchronous_of(db), 1);
  {
    SynchronousScope durable(db, Synchronous::full);
    EXPECT_EQ(synchronous_of(db), 2);
  }
  EXPECT_EQ(synchronous_of(db), 1);
  auto lease_like = Db::open(dir / "b.db");  // default options: FULL
  EXPECT_EQ(synchronous_of(lease_like), 2);
}

TEST_F(SqliteTest, CommitAfterSqliteEndedTheTransactionThrows) {
  auto db = Db::open(dir / "a.db", quick());
  db.exec("CREATE TABLE t(v)");
  Transaction tx(db);
  db.exec("ROLLBACK");  // as SQLite does by itself after some errors
  EXPECT_THROW(tx.commit(), Error);
}

TEST_F(SqliteTest, FilesArePrivateAndDirectoryToo) {
  const auto state = dir / "state";
  std::filesystem::create_directories(state);
  std::filesystem::permissions(state, std::filesystem::perms::all);  // 0777, as an old install might have
  ensure_private_dir(state);
  EXPECT_EQ(mode_of(state), 0700u);
  ::umask(022);
  auto db = Db::open(state / "x.db", quick());
  db.exec("CREATE TABLE t(v)");
  db.exec("INSERT INTO t VALUES(1)");
  EXPECT_EQ(mode_of(state / "x.db"), 0600u);
  EXPECT_EQ(mode_of(state / "x.db-wal"), 0600u);
  EXPECT_EQ(mode_of(state / "x.db-shm"), 0600u);
}

TEST_F(SqliteTest, ExistingWorldReadableFilesAreTightened) {
  {
    auto db = Db::open(dir / "old.db", quick());
    db.exec("CREATE TABLE t(v)");
    db.exec("INSERT INTO t VALUES(1)");
    std::filesystem::permissions(dir / "old.db",
                                 std::filesystem::perms::owner_read | std::filesystem::perms::owner_write |
                                     std::filesystem::perms::group_read | std::filesystem::perms::others_read);
    ASSERT_EQ(mode_of(dir / "old.db"), 0644u);
  }
  auto db = Db::open(dir / "old.db", quick());
  EXPECT_EQ(mode_of(dir / "old.db"), 0600u);
}

TEST_F(SqliteTest, ReadOnlyConnectionCannotWrite) {
  {
    auto db = Db::open(dir / "a.db", quick());
    db.exec("CREATE TABLE t(v)");
  }
  OpenOptions ro = quick();
  ro.read_only = true;
  auto db = Db::open(dir / "a.db", ro);
  try {
    db.exec("INSERT INTO t VALUES(1)");
    FAIL() << "expected SQLITE_READONLY";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), SQLITE_READONLY) << e.what();
  }
}

}  // namespace
}  // namespace ramfleet::store::sqlite
