#include "store/sqlite_lease_store.hpp"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "test_dir.hpp"

namespace ramfleet::store {
namespace {

struct StoreTest : ::testing::Test {
  std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("ramfleet-store-test-" + std::to_string(::getpid()) + "-" +
                                                ::testing::UnitTest::GetInstance()->current_test_info()->name());
  ~StoreTest() override { std::filesystem::remove_all(dir); }
};

dhcp::Lease lease(const char* address, const char* mac, std::int64_t expires) {
  dhcp::Lease l;
  l.address = *Ipv4::parse(address);
  l.mac = *MacAddress::parse(mac);
  l.client_id = {1, 2, 3};
  l.hostname = "node";
  l.expires_at = expires;
  return l;
}

TEST_F(StoreTest, PutLoadEraseAndReopen) {
  {
    auto s = SqliteLeaseStore::open(dir / "nested");
    EXPECT_TRUE(std::filesystem::exists(dir / "nested" / "leases.db"));
    EXPECT_TRUE(s->load_all().empty());
    s->put(lease("10.0.0.9", "52:54:00:00:00:09", 100));
    s->put(lease("10.0.0.2", "52:54:00:00:00:02", 200));
    dhcp::Lease replaced = lease("10.0.0.9", "52:54:00:00:00:0a", 300);
    replaced.state = dhcp::LeaseState::declined;
    replaced.client_id.clear();
    s->put(replaced);
    s->put(lease("10.0.0.5", "52:54:00:00:00:05", 400));
    s->erase(*Ipv4::parse("10.0.0.5"));
  }
  auto s = SqliteLeaseStore::open(dir / "nested");
  auto all = s->load_all();
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0], lease("10.0.0.2", "52:54:00:00:00:02", 200));  // address order
  EXPECT_EQ(all[1].mac.str(), "52:54:00:00:00:0a");
  EXPECT_EQ(all[1].state, dhcp::LeaseState::declined);
  EXPECT_TRUE(all[1].client_id.empty());
  EXPECT_EQ(all[1].expires_at, 300);
}

TEST_F(StoreTest, UsesWriteAheadLog) {
  auto s = SqliteLeaseStore::open(dir);
  s->put(lease("10.0.0.2", "52:54:00:00:00:02", 200));
  EXPECT_TRUE(std::filesystem::exists(dir / "leases.db-wal"));
}

TEST_F(StoreTest, UnusableDirectoryIsAClearError) {
  std::filesystem::create_directories(dir);
  std::filesystem::path file = dir / "not-a-dir";
  { std::ofstream(file) << "x"; }
  EXPECT_THROW(SqliteLeaseStore::open(file), dhcp::StoreError);
  // A file that is not a database.
  std::filesystem::create_directories(dir / "bad");
  { std::ofstream(dir / "bad" / "leases.db") << std::string(4096, 'z'); }
  EXPECT_THROW(SqliteLeaseStore::open(dir / "bad"), dhcp::StoreError);
}

TEST_F(StoreTest, FilesArePrivate) {
  std::filesystem::create_directories(dir);
  std::filesystem::permissions(dir, std::filesystem::perms::all);
  ::umask(022);
  auto s = SqliteLeaseStore::open(dir);
  s->put(lease("10.0.0.2", "52:54:00:00:00:02", 200));
  EXPECT_EQ(testing::mode_of(dir), 0700u);
  EXPECT_EQ(testing::mode_of(dir / "leases.db"), 0600u);
  EXPECT_EQ(testing::mode_of(dir / "leases.db-wal"), 0600u);
  EXPECT_EQ(testing::mode_of(dir / "leases.db-shm"), 0600u);
}

TEST_F(StoreTest, LockedDatabaseIsAStoreErrorWithSqlitesMessageAndTheStoreRecovers) {
  auto s = SqliteLeaseStore::open(dir);
  sqlite3* other = nullptr;
  ASSERT_EQ(sqlite3_open((dir / "leases.db").c_str(), &other), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(other, "BEGIN EXCLUSIVE", nullptr, nullptr, nullptr), SQLITE_OK);
  try {
    s->put(lease("10.0.0.2", "52:54:00:00:00:02", 200));
    FAIL() << "expected a dhcp::StoreError";
  } catch (const dhcp::StoreError& e) {
    EXPECT_NE(std::string(e.what()).find("database is locked"), std::string::npos) << e.what();
  }
  sqlite3_exec(other, "COMMIT", nullptr, nullptr, nullptr);
  sqlite3_close(other);
  s->put(lease("10.0.0.3", "52:54:00:00:00:03", 300));
  auto all = s->load_all();
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].address.str(), "10.0.0.3");
}

}  // namespace
}  // namespace ramfleet::store
