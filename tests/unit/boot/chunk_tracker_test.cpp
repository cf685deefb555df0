// The p2p tracker's grant policy: ramfleet sends each chunk to few nodes at a
// time, peers that hold a chunk are handed out least recently used first,
// everything expires and every table is bounded.
#include "boot/chunk_tracker.hpp"

#include <gtest/gtest.h>

#include <map>
#include <set>

namespace ramfleet::boot {
namespace {
using namespace std::chrono_literals;
using Clock = ChunkTracker::Clock;

const std::string kImage(64, 'a');
const Clock::time_point t0{};

Announce ask(const std::string& m, std::vector<std::uint32_t> have, std::vector<std::uint32_t> want) {
  return Announce{m, m + ":7480", std::move(have), std::move(want)};
}

TrackerAnswer must(ChunkTracker& t, const Announce& a, Clock::time_point now = t0) {
  TrackerRefusal why{};
  auto r = t.announce(kImage, a, now, why);
  EXPECT_EQ(why, TrackerRefusal::none);
  return r;
}

std::map<std::uint32_t, ChunkSources> by_chunk(const TrackerAnswer& a) {
  std::map<std::uint32_t, ChunkSources> m;
  for (const auto& s : a.sources) m[s.chunk] = s;
  return m;
}

TEST(ChunkTracker, AChunkNobodyHoldsGoesToOneNodeAtATimeFromTheServer) {
  ChunkTracker t;
  t.add_image(kImage, 4, t0);
  auto a = by_chunk(must(t, ask("n1", {}, {0})));
  ASSERT_TRUE(a.contains(0));
  EXPECT_TRUE(a[0].server);
  // n2 wants the same chunk: nobody holds it and n1 is fetching it: wait.
  auto b = must(t, ask("n2", {}, {0}));
  EXPECT_TRUE(b.sources.empty());
  EXPECT_EQ(b.retry, t.limits().retry);
  // Asking again while fetching gives the same grant, not a second one.
  EXPECT_TRUE(by_chunk(must(t, ask("n1", {}, {0})))[0].server);
  EXPECT_EQ(t.open_grants(kImage), 1U);
  EXPECT_EQ(t.stats().server_grants, 1U);
  EXPECT_EQ(t.stats().waits, 1U);
}

TEST(ChunkTracker, OnceAnnouncedTheHolderIsNamedAndTheGrantEnds) {
  ChunkTracker t;
  t.add_image(kImage, 4, t0);
  must(t, ask("n1", {}, {0}));
  must(t, ask("n1", {0}, {}));
  EXPECT_EQ(t.open_grants(kImage), 0U);
  auto b = by_chunk(must(t, ask("n2", {}, {0})));
  ASSERT_TRUE(b.contains(0));
  EXPECT_FALSE(b[0].server);
  EXPECT_EQ(b[0].peers, std::vector<std::string>{"n1:7480"});
  // A node is never told to ask itself.
  must(t, ask("n2", {0}, {}));
  auto self = by_chunk(must(t, ask("n1", {0}, {0})));
  EXPECT_EQ(self[0].peers, std::vector<std::string>{"n2:7480"});
  EXPECT_EQ(t.stats().peer_answers, 2U);
}

TEST(ChunkTracker, ServerGrantsAreCappedPerImageAndPerNode) {
  TrackerLimits l;
  l.server_grants = 3;
  l.server_grants_per_peer = 2;
  ChunkTracker t(l);
  t.add_image(kImage, 10, t0);
  // One greedy node gets at most 2 chunks from the server at once.
  EXPECT_EQ(must(t, ask("n1", {}, {0, 1, 2, 3})).sources.size(), 2U);
  // The image's cap: one more for n2, none for n3.
  EXPECT_EQ(must(t, ask("n2", {}, {0, 1, 2, 3, 4})).sources.size(), 1U);
  EXPECT_EQ(must(t, ask("n3", {}, {5, 6})).sources.size(), 0U);
  EXPECT_EQ(t.open_grants(kImage), 3U);
  // n1 finishes one: a slot opens.
  must(t, ask("n1", {0}, {}));
  EXPECT_EQ(by_chunk(must(t, ask("n3", {}, {5})))[5].server, true);
}

TEST(ChunkTracker, GrantsExpireSoAStalledNodeDoesNotBlockAChunk) {
  ChunkTracker t;
  t.add_image(kImage, 2, t0);
  must(t, ask("n1", {}, {0}));
  EXPECT_TRUE(must(t, ask("n2", {}, {0}), t0 + 1s).sources.empty());
  const auto later = t0 + t.limits().grant_ttl + 1ms;
  must(t, ask("n1", {}, {}), later);  // n1 is alive but never announced chunk 0
  auto b = by_chunk(must(t, ask("n2", {}, {0}), later));
  EXPECT_TRUE(b[0].server);
  EXPECT_GE(t.stats().grants_expired, 1U);
}

TEST(ChunkTracker, HoldersAreSpreadLeastRecentlyHandedOutFirst) {
  TrackerLimits l;
  l.sources_per_chunk = 1;
  ChunkTracker t(l);
  t.add_image(kImage, 1, t0);
  for (auto m : {"h1", "h2", "h3"}) must(t, ask(m, {0}, {}));
  std::map<std::string, int> handed;
  for (int i = 0; i < 30; ++i) {
    auto a = by_chunk(must(t, ask("asker" + std::to_string(i), {}, {0})));
    ASSERT_EQ(a[0].peers.size(), 1U);
    ++handed[a[0].peers[0]];
  }
  EXPECT_EQ(handed, (std::map<std::string, int>{{"h1:7480", 10}, {"h2:7480", 10}, {"h3:7480", 10}}));
}

TEST(ChunkTracker, SilentPeersExpireAndAreNoLongerNamed) {
  ChunkTracker t;
  t.add_image(kImage, 1, t0);
  must(t, ask("h1", {0}, {}));
  const auto later = t0 + t.limits().peer_ttl + 1ms;
  auto a = by_chunk(must(t, ask("n2", {}, {0}), later));
  EXPECT_TRUE(a[0].server);  // h1 is gone: nobody holds it
  EXPECT_EQ(t.peers(kImage), 1U);
  EXPECT_EQ(t.stats().peers_expired, 1U);
}

TEST(ChunkTracker, BoundsImagesPeersHoldersAndWants) {
  TrackerLimits l;
  l.images = 2;
  l.peers_per_image = 3;
  l.holders_per_chunk = 2;
  l.wants_per_request = 4;
  l.server_grants = 100;
  l.server_grants_per_peer = 100;
  l.server_per_chunk = 100;
  ChunkTracker t(l);
  const std::string other(64, 'b');
  const std::string third(64, 'c');
  t.add_image(kImage, 100, t0);
  t.add_image(other, 1, t0 + 1ms);
  t.add_image(third, 1, t0 + 2ms);  // forgets the least recently used: kImage
  EXPECT_EQ(t.images(), 2U);
  EXPECT_FALSE(t.knows(kImage));
  EXPECT_EQ(t.stats().images_forgotten, 1U);
  TrackerRefusal why{};
  t.announce(kImage, ask("n1", {}, {0}), t0, why);
  EXPECT_EQ(why, TrackerRefusal::unknown_image);

  t.add_image(kImage, 100, t0 + 3ms);
  for (auto m : {"h1", "h2", "h3"}) must(t, ask(m, {0}, {}), t0 + 3ms);
  t.announce(kImage, ask("h4", {0}, {}), t0 + 3ms, why);
  EXPECT_EQ(why, TrackerRefusal::image_full);
  EXPECT_EQ(t.peers(kImage), 3U);
  // Only two holders remembered for chunk 0; h3 asks and is named h1, h2.
  auto a = by_chunk(must(t, ask("h3", {}, {0}), t0 + 3ms));
  EXPECT_EQ(std::set<std::string>(a[0].peers.begin(), a[0].peers.end()), (std::set<std::string>{"h1:7480", "h2:7480"}));
  // At most 4 wants answered per request.
  std::vector<std::uint32_t> many;
  for (std::uint32_t i = 10; i < 60; ++i) many.push_back(i);
  EXPECT_EQ(must(t, ask("h1", {}, many), t0 + 3ms).sources.size(), 4U);
}

TEST(ChunkTracker, AnIndexBeyondTheImageIsRefusedAndChangesNothing) {
  ChunkTracker t;
  t.add_image(kImage, 4, t0);
  TrackerRefusal why{};
  t.announce(kImage, ask("n1", {4}, {}), t0, why);
  EXPECT_EQ(why, TrackerRefusal::bad_index);
  t.announce(kImage, ask("n1", {}, {0, 99}), t0, why);
  EXPECT_EQ(why, TrackerRefusal::bad_index);
  EXPECT_EQ(t.peers(kImage), 0U);
  EXPECT_EQ(t.open_grants(kImage), 0U);
}

TEST(ChunkTracker, AStormSendsEachChunkFromTheServerAboutOnce) {
  // 50 nodes, 16 chunks; each round every node asks for what it lacks, takes
  // one source per chunk and has it by the next round (peers serve at once).
  ChunkTracker t;
  constexpr std::uint32_t kChunks = 16;
  t.add_image(kImage, kChunks, t0);
  std::vector<std::set<std::uint32_t>> have(50);
  std::size_t from_server = 0;
  auto now = t0;
  for (int round = 0; round < 100; ++round) {
    now += 100ms;
    bool all = true;
    for (std::size_t n = 0; n < have.size(); ++n) {
      std::vector<std::uint32_t> want;
      for (std::uint32_t i = 0; i < kChunks; ++i)
        if (!have[n].contains(i)) want.push_back(i);
      if (want.empty()) continue;
      all = false;
      const auto name = "n" + std::to_string(n);
      auto a = must(t, ask(name, {have[n].begin(), have[n].end()}, want), now);
      for (const auto& s : a.sources) {
        if (s.server) ++from_server;
        have[n].insert(s.chunk);
      }
    }
    if (all) break;
  }
  for (const auto& h : have) EXPECT_EQ(h.size(), kChunks);
  EXPECT_EQ(from_server, kChunks);  // each chunk from ramfleet exactly once
}

}  // namespace
}  // namespace ramfleet::boot
