// Group commit (begin_batch / commit_batch): the DHCP socket layer writes the
// leases of one event-loop turn in one transaction and sends their ACKs only
// after commit_batch() returns. These tests pin what that relies on.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "store/sqlite_lease_store.hpp"

namespace ramfleet::store {
namespace {

struct GroupCommitTest : ::testing::Test {
  std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("ramfleet-group-commit-" + std::to_string(::getpid()) + "-" +
                                                ::testing::UnitTest::GetInstance()->current_test_info()->name());
  ~GroupCommitTest() override { std::filesystem::remove_all(dir); }
};

dhcp::Lease lease(const char* address, const char* mac) {
  dhcp::Lease l;
  l.address = *Ipv4::parse(address);
  l.mac = *MacAddress::parse(mac);
  l.hostname = "node";
  l.expires_at = 1000;
  return l;
}

TEST_F(GroupCommitTest, BatchedWritesBecomeVisibleTogetherAtCommit) {
  auto writer = SqliteLeaseStore::open(dir);
  auto reader = SqliteLeaseStore::open(dir);  // another connection: sees only committed data
  writer->begin_batch();
  writer->put(lease("10.0.0.2", "52:54:00:00:00:02"));
  writer->put(lease("10.0.0.3", "52:54:00:00:00:03"));
  writer->erase(*Ipv4::parse("10.0.0.2"));
  EXPECT_TRUE(reader->load_all().empty()) << "a batched write must not be committed before commit_batch()";
  writer->commit_batch();
  auto all = reader->load_all();
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0], lease("10.0.0.3", "52:54:00:00:00:03"));
}

TEST_F(GroupCommitTest, CommittedBatchSurvivesReopen) {
  {
    auto s = SqliteLeaseStore::open(dir);
    s->begin_batch();
    for (int i = 2; i < 102; ++i) {
      dhcp::Lease l = lease("10.0.0.0", "52:54:00:00:00:00");
      l.address = Ipv4{(10u << 24) | static_cast<std::uint32_t>(i)};
      s->put(l);
    }
    s->commit_batch();
  }
  EXPECT_EQ(SqliteLeaseStore::open(dir)->load_all().size(), 100u);
}

TEST_F(GroupCommitTest, UncommittedBatchIsLostWhenTheProcessGoesAway) {
  {
    auto s = SqliteLeaseStore::open(dir);
    s->put(lease("10.0.0.9", "52:54:00:00:00:09"));  // outside a batch: durable at once
    s->begin_batch();
    s->put(lease("10.0.0.2", "52:54:00:00:00:02"));
  }  // closed mid-batch, as by a crash before commit: no ACK was sent for 10.0.0.2
  auto all = SqliteLeaseStore::open(dir)->load_all();
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].address.str(), "10.0.0.9");
}

TEST_F(GroupCommitTest, EmptyBatchAndWritesAfterItAreDurableOnReturn) {
  auto writer = SqliteLeaseStore::open(dir);
  auto reader = SqliteLeaseStore::open(dir);
  writer->begin_batch();
  writer->commit_batch();  // nothing written: no transaction, no error
  writer->put(lease("10.0.0.4", "52:54:00:00:00:04"));
  EXPECT_EQ(reader->load_all().size(), 1u);
}

}  // namespace
}  // namespace ramfleet::store
