// Snapshots under STATE/etcd/snapshots: the checks `etcdctl snapshot restore`
// makes (bbolt magic, sha256 trailer), newest-good selection that skips a
// corrupted newest file, atomic commit, pruning to K.
#include "etcd/snapshot_store.hpp"

#include <gtest/gtest.h>
#include <openssl/sha.h>
#include <unistd.h>

#include <fstream>

namespace ramfleet::etcd {
namespace {
namespace fs = std::filesystem;

// A file shaped like etcd's: one 4 KiB page with bbolt's meta magic, then sha256(page).
std::string fake_snapshot(char fill) {
  std::string db(4096, fill);
  db[16] = '\xED';
  db[17] = '\xDA';
  db[18] = '\x0C';
  db[19] = '\xED';
  unsigned char h[32];
  SHA256(reinterpret_cast<const unsigned char*>(db.data()), db.size(), h);
  return db + std::string(reinterpret_cast<const char*>(h), 32);
}

class SnapshotStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir = fs::temp_directory_path() / ("ramfleet-snap-" + std::to_string(::getpid()) + "-" +
                                       ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir);
    fs::create_directories(dir);
  }
  void TearDown() override { fs::remove_all(dir); }
  SnapshotInfo put(const std::string& bytes, std::int64_t ms, std::int64_t rev) {
    SnapshotStore s(dir);
    const auto tmp = s.temp_path(ms);
    std::ofstream(tmp, std::ios::binary) << bytes;
    auto r = s.commit(tmp, ms, rev);
    EXPECT_TRUE(std::holds_alternative<SnapshotInfo>(r)) << std::get<std::string>(r);
    return std::get<SnapshotInfo>(r);
  }
  fs::path dir;
};

TEST(SnapshotCheck, TrailerAndMagic) {
  const auto good = fake_snapshot('a');
  const auto c = check_snapshot(good);
  EXPECT_TRUE(c.ok) << c.reason;
  EXPECT_EQ(c.sha256_hex.size(), 64u);
  auto flipped = good;
  flipped[1000] ^= 1;
  EXPECT_NE(check_snapshot(flipped).reason.find("sha256"), std::string::npos);
  auto nomagic = good;
  nomagic[16] = 0;
  EXPECT_NE(check_snapshot(nomagic).reason.find("bbolt"), std::string::npos);
  EXPECT_FALSE(check_snapshot(good.substr(0, 100)).ok);
}

TEST_F(SnapshotStoreTest, NewestGoodSkipsACorruptedNewest) {
  put(fake_snapshot('a'), 1000, 5);
  const auto newest = put(fake_snapshot('b'), 2000, 9);
  ASSERT_EQ(SnapshotStore(dir).list().size(), 2u);
  EXPECT_EQ(SnapshotStore(dir).newest_good().snapshot->revision, 9);
  {
    std::fstream f(newest.file, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(2000);
    f.put('Z');
  }
  const auto g = SnapshotStore(dir).newest_good();
  ASSERT_TRUE(g.snapshot);
  EXPECT_EQ(g.snapshot->revision, 5);
  ASSERT_EQ(g.skipped.size(), 1u);
  EXPECT_NE(g.skipped[0].find("snapshot-2000-r9.db"), std::string::npos);
  EXPECT_EQ(g.sha256_hex, check_snapshot(fake_snapshot('a')).sha256_hex);
}

TEST_F(SnapshotStoreTest, ABadStreamIsNeverCommitted) {
  SnapshotStore s(dir);
  const auto tmp = s.temp_path(1);
  std::ofstream(tmp, std::ios::binary) << fake_snapshot('a').substr(0, 3000);
  auto r = s.commit(tmp, 1, 1);
  EXPECT_TRUE(std::holds_alternative<std::string>(r));
  EXPECT_FALSE(fs::exists(tmp));
  EXPECT_TRUE(s.list().empty());
}

TEST_F(SnapshotStoreTest, PruneKeepsTheNewest) {
  for (int i = 1; i <= 4; ++i) put(fake_snapshot('a'), i * 1000, i);
  std::ofstream(dir / ".partial-9-9") << "half";
  std::ofstream(dir / "notes.txt") << "operator's";
  SnapshotStore s(dir);
  EXPECT_EQ(s.prune(2).size(), 2u);
  const auto left = s.list();
  ASSERT_EQ(left.size(), 2u);
  EXPECT_EQ(left[0].revision, 4);
  EXPECT_EQ(left[1].revision, 3);
  EXPECT_FALSE(fs::exists(dir / ".partial-9-9"));
  EXPECT_TRUE(fs::exists(dir / "notes.txt"));
}

TEST(SnapshotName, OnlyOurs) {
  EXPECT_TRUE(parse_snapshot_name("snapshot-17-r3.db"));
  EXPECT_FALSE(parse_snapshot_name("snapshot-17.db"));
  EXPECT_FALSE(parse_snapshot_name("snapshot-x-r3.db"));
  EXPECT_FALSE(parse_snapshot_name("backup.db"));
}

}  // namespace
}  // namespace ramfleet::etcd
