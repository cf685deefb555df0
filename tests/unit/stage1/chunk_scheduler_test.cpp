// The p2p node's chunk scheduler: sources the tracker names, every chunk
// checked, a peer that fails or lies barred and its chunk taken from
// ramfleet, a bounded wait with no source, bytes written strictly in order.
#include "stage1/chunk_scheduler.hpp"

#include <gtest/gtest.h>

namespace ramfleet::stage1 {
namespace {
using namespace std::chrono_literals;
using Clock = ChunkScheduler::Clock;
const Clock::time_point t0{};

std::string image_bytes() {
  std::string s(4096 * 5 + 100, '\0');
  for (std::size_t i = 0; i < s.size(); ++i) s[i] = static_cast<char>(i * 7 % 253);
  return s;
}

struct Fixture {
  std::string bytes = image_bytes();
  ChunkManifest m = make_chunk_manifest(std::string(64, 'a'), "rootfs.cpio.zst", bytes, 4096);
  std::string chunk(std::uint32_t i) const { return bytes.substr(m.chunk_offset(i), m.chunk_length(i)); }
};

TEST(ChunkScheduler, WantsEverythingFirstAndTakesNamedSources) {
  Fixture f;
  ChunkScheduler s(f.m, {}, t0);
  EXPECT_EQ(s.want(), (std::vector<std::uint32_t>{0, 1, 2, 3, 4, 5}));
  EXPECT_FALSE(s.next_job(t0));  // no source yet
  s.on_sources({{2, {"10.0.0.2:7480"}}, {0, {"server"}}});
  auto a = s.next_job(t0);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->chunk, 0U);
  EXPECT_TRUE(a->peer.empty());
  auto b = s.next_job(t0);
  ASSERT_TRUE(b);
  EXPECT_EQ(b->chunk, 2U);
  EXPECT_EQ(b->peer, "10.0.0.2:7480");
  EXPECT_FALSE(s.next_job(t0));
  EXPECT_EQ(s.want(), (std::vector<std::uint32_t>{1, 3, 4, 5}));  // in flight: not asked for
}

TEST(ChunkScheduler, HandsOutChunksStrictlyInOrder) {
  Fixture f;
  SchedulerLimits l;
  l.parallel = 10;
  ChunkScheduler s(f.m, l, t0);
  std::map<std::uint32_t, std::vector<std::string>> all;
  for (std::uint32_t i = 0; i < 6; ++i) all[i] = {"server"};
  s.on_sources(all);
  std::vector<ChunkJob> jobs;
  while (auto j = s.next_job(t0)) jobs.push_back(*j);
  ASSERT_EQ(jobs.size(), 6U);
  // Completed out of order: nothing is written until chunk 0 is there.
  for (std::uint32_t i : {5U, 3U, 1U}) EXPECT_TRUE(s.complete(jobs[i], f.chunk(i), t0));
  EXPECT_TRUE(s.take_prefix().empty());
  EXPECT_TRUE(s.complete(jobs[0], f.chunk(0), t0));
  auto p = s.take_prefix();
  ASSERT_EQ(p.size(), 2U);
  EXPECT_EQ(*p[0] + *p[1], f.bytes.substr(0, 8192));
  for (std::uint32_t i : {2U, 4U}) EXPECT_TRUE(s.complete(jobs[i], f.chunk(i), t0));
  std::string rest;
  for (const auto& c : s.take_prefix()) rest += *c;
  EXPECT_EQ(rest, f.bytes.substr(8192));
  EXPECT_TRUE(s.complete());
  EXPECT_EQ(*s.held(5), f.chunk(5));  // kept for serving
  EXPECT_EQ(s.have_for_announce().size(), 6U);
}

TEST(ChunkScheduler, ACorruptPeerIsBarredAndItsChunkComesFromTheServer) {
  Fixture f;
  ChunkScheduler s(f.m, {}, t0);
  s.on_sources({{1, {"10.0.0.6:7480", "10.0.0.7:7480"}}, {2, {"10.0.0.6:7480"}}});
  auto j = s.next_job(t0);
  ASSERT_EQ(j->peer, "10.0.0.6:7480");
  auto lie = f.chunk(1);
  lie[100] ^= 1;
  EXPECT_FALSE(s.complete(*j, lie, t0));
  EXPECT_TRUE(s.barred("10.0.0.6:7480"));
  EXPECT_EQ(s.stats().corrupt, 1U);
  // Chunk 1 now goes to the server, not to the second peer; chunk 2's only
  // source was the liar: no job for it.
  auto k = s.next_job(t0);
  ASSERT_TRUE(k);
  EXPECT_EQ(k->chunk, 1U);
  EXPECT_TRUE(k->peer.empty());
  EXPECT_FALSE(s.next_job(t0));
  // The tracker naming only the liar for chunk 2: ramfleet instead.
  s.on_sources({{2, {"10.0.0.6:7480"}}});
  auto two = s.next_job(t0);
  ASSERT_TRUE(two);
  EXPECT_EQ(two->chunk, 2U);
  EXPECT_TRUE(two->peer.empty());
  // A short chunk is a lie too.
  EXPECT_FALSE(s.complete(*k, f.chunk(1).substr(1), t0));
  auto again = s.next_job(t0);
  ASSERT_TRUE(again);
  EXPECT_TRUE(s.complete(*again, f.chunk(1), t0));
}

TEST(ChunkScheduler, AVanishedPeerIsBarredABusyOneIsNot) {
  Fixture f;
  ChunkScheduler s(f.m, {}, t0);
  s.on_sources({{0, {"10.0.0.8:7480", "10.0.0.9:7480"}}});
  auto j = s.next_job(t0);
  s.fail(*j, ChunkFailure::busy);
  EXPECT_FALSE(s.barred("10.0.0.8:7480"));
  auto k = s.next_job(t0);
  ASSERT_TRUE(k);
  EXPECT_EQ(k->peer, "10.0.0.9:7480");
  s.fail(*k, ChunkFailure::broken);
  EXPECT_TRUE(s.barred("10.0.0.9:7480"));
  auto l = s.next_job(t0);
  ASSERT_TRUE(l);
  EXPECT_TRUE(l->peer.empty());
  EXPECT_EQ(s.want().front(), 1U);  // chunk 0 needs no tracker any more
}

TEST(ChunkScheduler, AnUnreachablePeerRestsAndItsChunkGoesBackToTheTracker) {
  Fixture f;
  ChunkScheduler s(f.m, {}, t0);
  s.on_sources({{0, {"10.0.0.8:7480"}}});
  auto j = s.next_job(t0);
  s.fail(*j, ChunkFailure::unreachable, t0);
  EXPECT_FALSE(s.barred("10.0.0.8:7480"));
  EXPECT_TRUE(s.resting("10.0.0.8:7480", t0 + 1s));
  EXPECT_FALSE(s.next_job(t0 + 1s));  // not straight to ramfleet
  EXPECT_EQ(s.want().front(), 0U);    // asked of the tracker again
  s.on_sources({{0, {"10.0.0.8:7480", "10.0.0.9:7480"}}});
  auto k = s.next_job(t0 + 1s);  // the resting one is skipped
  ASSERT_TRUE(k);
  EXPECT_EQ(k->peer, "10.0.0.9:7480");
  s.fail(*k, ChunkFailure::busy);
  // Rested long enough: asked again; a second failure rests it longer.
  s.on_sources({{0, {"10.0.0.8:7480"}}});
  auto l = s.next_job(t0 + 3s);
  ASSERT_TRUE(l);
  EXPECT_EQ(l->peer, "10.0.0.8:7480");
  s.fail(*l, ChunkFailure::unreachable, t0 + 3s);
  EXPECT_TRUE(s.resting("10.0.0.8:7480", t0 + 6s));
  EXPECT_FALSE(s.resting("10.0.0.8:7480", t0 + 7s));
}

TEST(ChunkScheduler, ABoundedWaitWithNoSourceFallsBackToTheServer) {
  Fixture f;
  SchedulerLimits l;
  l.stall = 5s;
  ChunkScheduler s(f.m, l, t0);
  EXPECT_FALSE(s.next_job(t0 + 4s));
  auto j = s.next_job(t0 + 5s);
  ASSERT_TRUE(j);
  EXPECT_EQ(j->chunk, 0U);
  EXPECT_TRUE(j->peer.empty());
  EXPECT_EQ(s.stats().server_fallbacks, 1U);
  EXPECT_FALSE(s.next_job(t0 + 20s));  // one at a time
  EXPECT_TRUE(s.complete(*j, f.chunk(0), t0 + 6s));
  EXPECT_FALSE(s.next_job(t0 + 10s));
  EXPECT_TRUE(s.next_job(t0 + 11s));
}

TEST(ChunkScheduler, ServerOnlyTakesEverythingFromRamfleet) {
  Fixture f;
  SchedulerLimits l;
  l.parallel = 2;
  ChunkScheduler s(f.m, l, t0);
  s.server_only();
  EXPECT_TRUE(s.want().empty());
  auto a = s.next_job(t0);
  auto b = s.next_job(t0);
  ASSERT_TRUE(a && b);
  EXPECT_TRUE(a->peer.empty() && b->peer.empty());
  EXPECT_FALSE(s.next_job(t0));
}

TEST(ChunkScheduler, HaveListsRotateWhenTooLong) {
  std::string bytes(4096 * 10, 'x');
  auto m = make_chunk_manifest(std::string(64, 'b'), "rootfs.cpio.zst", bytes, 4096);
  SchedulerLimits l;
  l.parallel = 100;
  l.max_have = 4;
  ChunkScheduler s(m, l, t0);
  std::map<std::uint32_t, std::vector<std::string>> all;
  for (std::uint32_t i = 0; i < 10; ++i) all[i] = {"server"};
  s.on_sources(all);
  while (auto j = s.next_job(t0)) s.complete(*j, bytes.substr(0, 4096), t0);
  std::set<std::uint32_t> seen;
  for (int k = 0; k < 3; ++k) {
    auto h = s.have_for_announce();
    EXPECT_EQ(h.size(), 4U);
    seen.insert(h.begin(), h.end());
  }
  EXPECT_EQ(seen.size(), 10U);
}

}  // namespace
}  // namespace ramfleet::stage1
