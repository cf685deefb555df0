// The reconciler's decisions (issue 12): first formation once, rejoin as a
// learner only with quorum and only from an authenticated boot of a member
// that no longer answers, never a removal that loses quorum, cold start from
// a snapshot by exactly one seed, a partitioned member left alone.
#include "etcd/decisions.hpp"

#include <gtest/gtest.h>

namespace ramfleet::etcd {
namespace {

const std::vector<ConfiguredMember> kThree{{"e1", "10.0.0.11"}, {"e2", "10.0.0.12"}, {"e3", "10.0.0.13"}};

Member member(MemberId id, const std::string& name, const std::string& ip, bool learner = false, bool started = true) {
  Member m;
  m.id = id;
  m.name = started ? name : "";
  m.peer_urls = {peer_url(ip)};
  if (started) m.client_urls = {client_url(ip)};
  m.learner = learner;
  return m;
}

// Three voters; `up` answer, the leader is member 1 when it answers, else 2.
Observation cluster(std::vector<int> up, std::vector<Member> extra = {}) {
  Observation o;
  MemberList l;
  for (int i = 1; i <= 3; ++i) l.members.push_back(member(i, "e" + std::to_string(i), "10.0.0.1" + std::to_string(i)));
  for (auto& m : extra) l.members.push_back(m);
  o.list = l;
  const MemberId leader = std::find(up.begin(), up.end(), 1) != up.end() ? 1 : 2;
  for (int i : up) {
    MemberStatus s;
    s.id = static_cast<MemberId>(i);
    s.leader = up.size() >= 2 ? leader : 0;
    o.answered["e" + std::to_string(i)] = s;
  }
  return o;
}

TEST(DecideBoot, FirstFormationWhileNothingAnswersAndNeverFormed) {
  const auto d = decide_boot(kThree, "e2", Observation{}, Formation{}, false);
  EXPECT_EQ(d.verdict, BootVerdict::first_formation);
}

TEST(DecideBoot, RebootedMemberRejoinsAsLearnerAfterItsStaleEntryGoes) {
  const auto d = decide_boot(kThree, "e3", cluster({1, 2}), Formation{true, {}, "t"}, true);
  ASSERT_EQ(d.verdict, BootVerdict::rejoin) << d.reason;
  ASSERT_TRUE(d.stale);
  EXPECT_EQ(d.stale->id, 3u);
  EXPECT_NE(d.reason.find("2 of 3"), std::string::npos) << d.reason;
}

TEST(DecideBoot, AHealthyMemberIsNeverTouched) {
  const auto d = decide_boot(kThree, "e3", cluster({1, 2, 3}), Formation{true, {}, "t"}, true);
  EXPECT_EQ(d.verdict, BootVerdict::refuse_healthy);
  EXPECT_FALSE(d.stale);
  EXPECT_FALSE(is_wait(d.verdict));
}

TEST(DecideBoot, NoQuorumNoChange) {
  const auto d = decide_boot(kThree, "e3", cluster({1}), Formation{true, {}, "t"}, true);
  EXPECT_EQ(d.verdict, BootVerdict::refuse_no_quorum);
  EXPECT_TRUE(is_wait(d.verdict));
}

TEST(DecideBoot, RemovingADeadVoterKeepsQuorum) {
  // Five voters, three answer: removing one dead voter leaves 3 of 4 (quorum 3): fine.
  Observation five = cluster({1, 2}, {member(4, "e4", "10.0.0.14"), member(5, "e5", "10.0.0.15")});
  MemberStatus s4;
  s4.id = 4;
  s4.leader = 1;
  five.answered["e4"] = s4;
  std::vector<ConfiguredMember> conf = kThree;
  conf.push_back({"e4", "10.0.0.14"});
  conf.push_back({"e5", "10.0.0.15"});
  EXPECT_EQ(decide_boot(conf, "e5", five, Formation{true, {}, "t"}, true).verdict, BootVerdict::rejoin);
  // A one-voter cluster whose only member is the one booting: it answers or it is gone; its removal empties it.
  Observation one;
  one.list = MemberList{};
  one.list->members = {member(1, "e1", "10.0.0.11"), member(9, "x", "10.0.0.99")};
  MemberStatus sx;
  sx.id = 9;
  sx.leader = 9;
  one.answered["x"] = sx;
  // Two voters, one answering (x): quorum needs 2 -> no quorum already.
  EXPECT_EQ(decide_boot(kThree, "e1", one, Formation{true, {}, "t"}, true).verdict, BootVerdict::refuse_no_quorum);
}

TEST(DecideBoot, OneLearnerAtATime) {
  auto seen = cluster({1, 2}, {});
  seen.list->members[2] = member(3, "e3", "10.0.0.13", /*learner=*/true);
  // e3 is a learner catching up; e3 booting again replaces its own learner entry.
  EXPECT_EQ(decide_boot(kThree, "e3", seen, Formation{true, {}, "t"}, true).verdict, BootVerdict::rejoin);
  std::vector<ConfiguredMember> conf = kThree;
  conf.push_back({"e4", "10.0.0.14"});
  EXPECT_EQ(decide_boot(conf, "e4", seen, Formation{true, {}, "t"}, true).verdict, BootVerdict::wait_learner);
}

TEST(DecideBoot, ColdStartHasExactlyOneSeed) {
  Formation f{true, {}, "t"};
  EXPECT_EQ(decide_boot(kThree, "e2", Observation{}, f, false).verdict, BootVerdict::refuse_no_snapshot);
  EXPECT_EQ(decide_boot(kThree, "e2", Observation{}, f, true).verdict, BootVerdict::cold_seed);
  f.cold_seed = "e2";
  EXPECT_EQ(decide_boot(kThree, "e2", Observation{}, f, true).verdict, BootVerdict::cold_seed);  // the seed again
  const auto other = decide_boot(kThree, "e1", Observation{}, f, true);
  EXPECT_EQ(other.verdict, BootVerdict::wait_seed);
  EXPECT_TRUE(is_wait(other.verdict));
}

TEST(DecideBoot, AfterTheSeedIsUpTheOthersJoinIt) {
  Observation o;
  o.list = MemberList{};
  o.list->members = {member(42, "e2", "10.0.0.12")};
  MemberStatus s;
  s.id = 42;
  s.leader = 42;
  o.answered["e2"] = s;
  const auto d = decide_boot(kThree, "e1", o, Formation{true, "e2", "t"}, true);
  EXPECT_EQ(d.verdict, BootVerdict::rejoin);
  EXPECT_FALSE(d.stale);
}

TEST(InitialCluster, NamesUnstartedMembersByTheirConfiguredPeerUrl) {
  MemberList l;
  l.members = {member(1, "e1", "10.0.0.11"), member(2, "e2", "10.0.0.12"),
               member(7, "", "10.0.0.13", true, /*started=*/false)};
  const auto ic = initial_cluster_of(l, kThree);
  ASSERT_EQ(ic.size(), 3u);
  EXPECT_EQ(ic[2].name, "e3");
  EXPECT_EQ(ic[2].peer_url, "https://10.0.0.13:2380");
}

TEST(DecideTick, PartitionedMemberIsLeftAloneAndSnapshotsComeFromTheLeader) {
  const auto t = decide_tick(kThree, cluster({1, 2}), Formation{true, {}, "t"}, std::nullopt, std::chrono::minutes(5));
  EXPECT_TRUE(t.promote.empty());
  EXPECT_FALSE(t.mark_formed);
  EXPECT_EQ(t.snapshot_from, "https://10.0.0.11:2379");
  const auto later =
      decide_tick(kThree, cluster({1, 2}), Formation{true, {}, "t"}, std::chrono::minutes(1), std::chrono::minutes(5));
  EXPECT_TRUE(later.snapshot_from.empty());
}

TEST(DecideTick, FormationLearnersAndColdStart) {
  auto seen = cluster({1, 2, 3});
  seen.list->members[2].learner = true;
  const auto t = decide_tick(kThree, seen, Formation{false, "e1", ""}, std::nullopt, std::chrono::minutes(5));
  EXPECT_TRUE(t.mark_formed);
  EXPECT_TRUE(t.cold_start_done);
  ASSERT_EQ(t.promote.size(), 1u);
  EXPECT_EQ(t.promote[0].id, 3u);
  const auto none = decide_tick(kThree, cluster({3}), Formation{false, {}, ""}, std::nullopt, std::chrono::minutes(5));
  EXPECT_FALSE(none.mark_formed);  // one member alone has no leader: not formed
  EXPECT_TRUE(none.snapshot_from.empty());
}

}  // namespace
}  // namespace ramfleet::etcd
