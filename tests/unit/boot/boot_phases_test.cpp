// A boot followed milestone by milestone: the phases observed on `ready`
// match the time between the milestones, per profile, once per boot.
#include "boot/boot_phases.hpp"

#include <gtest/gtest.h>

namespace ramfleet::boot {
namespace {
using std::chrono::seconds;

struct Phases : ::testing::Test {
  metrics::HistogramFamily phases{"p", "", {"profile", "phase"}, {1, 10, 100}, 64};
  metrics::HistogramFamily boots{"b", "", {"profile"}, {1, 10, 100}, 64};
  BootPhases tracker{4};
  BootPhases::TimePoint t0{seconds{1000}};
  Phases() { tracker.attach(&phases, &boots); }
  const metrics::Histogram* phase(const std::string& profile, const std::string& name) {
    auto it = phases.children().find({profile, name});
    return it == phases.children().end() ? nullptr : &it->second;
  }
};

TEST_F(Phases, AWholeBootIsObservedOncePerPhase) {
  tracker.discover("52:54:00:00:00:01", t0);
  tracker.discover("52:54:00:00:00:01", t0 + seconds{3});  // iPXE asks again: the same boot
  tracker.script_served("52:54:00:00:00:01", "worker", "10.0.0.7", t0 + seconds{5});
  tracker.asset_requested("10.0.0.9", t0 + seconds{6});  // someone else
  tracker.asset_requested("10.0.0.7", t0 + seconds{7});
  tracker.asset_requested("10.0.0.7", t0 + seconds{9});  // the initrd: not a milestone
  tracker.config_served("52:54:00:00:00:01", t0 + seconds{20});
  EXPECT_TRUE(tracker.ready("52:54:00:00:00:01", t0 + seconds{50}));
  EXPECT_FALSE(tracker.ready("52:54:00:00:00:01", t0 + seconds{60}));  // a second report observes nothing

  ASSERT_TRUE(phase("worker", "discover_to_ipxe"));
  EXPECT_DOUBLE_EQ(phase("worker", "discover_to_ipxe")->sum(), 5);
  EXPECT_DOUBLE_EQ(phase("worker", "ipxe_to_kernel")->sum(), 2);
  EXPECT_DOUBLE_EQ(phase("worker", "kernel_to_config")->sum(), 13);
  EXPECT_DOUBLE_EQ(phase("worker", "config_to_ready")->sum(), 30);
  EXPECT_EQ(phase("worker", "config_to_ready")->count(), 1u);
  EXPECT_EQ(boots.children().at({"worker"}).count(), 1u);
  EXPECT_DOUBLE_EQ(boots.children().at({"worker"}).sum(), 50);
  EXPECT_EQ(tracker.followed(), 0u);
}

TEST_F(Phases, AMissingMilestoneMergesItsTwoPhases) {
  // No DHCP seen (another server answers), kernel from elsewhere.
  tracker.script_served("uuid-1", "etcd", "10.0.0.8", t0);
  tracker.config_served("uuid-1", t0 + seconds{30});
  EXPECT_TRUE(tracker.ready("uuid-1", t0 + seconds{40}));
  EXPECT_EQ(phase("etcd", "discover_to_ipxe"), nullptr);
  EXPECT_EQ(phase("etcd", "ipxe_to_kernel"), nullptr);
  EXPECT_DOUBLE_EQ(phase("etcd", "ipxe_to_config")->sum(), 30);
  EXPECT_DOUBLE_EQ(phase("etcd", "config_to_ready")->sum(), 10);
  EXPECT_DOUBLE_EQ(boots.children().at({"etcd"}).sum(), 40);
  // A profile without a config: the node reports ready after its kernel.
  tracker.discover("m", t0);
  tracker.script_served("m", "small", "10.0.0.9", t0 + seconds{2});
  tracker.asset_requested("10.0.0.9", t0 + seconds{3});
  EXPECT_TRUE(tracker.ready("m", t0 + seconds{20}));
  EXPECT_DOUBLE_EQ(phase("small", "kernel_to_ready")->sum(), 17);
  EXPECT_EQ(phases.children().size(), 5u);
}

TEST_F(Phases, ARestartBeginsANewBoot) {
  tracker.discover("m", t0);
  tracker.script_served("m", "worker", "10.0.0.7", t0 + seconds{1});
  tracker.config_served("m", t0 + seconds{2});
  tracker.discover("m", t0 + seconds{100});  // the machine rebooted before ready
  tracker.script_served("m", "worker", "10.0.0.7", t0 + seconds{104});
  EXPECT_TRUE(tracker.ready("m", t0 + seconds{110}));
  EXPECT_DOUBLE_EQ(boots.children().at({"worker"}).sum(), 10);
  EXPECT_DOUBLE_EQ(phase("worker", "discover_to_ipxe")->sum(), 4);
}

TEST_F(Phases, ReadyOrConfigOfAnUnknownMachineObservesNothing) {
  tracker.config_served("x", t0);
  EXPECT_FALSE(tracker.ready("x", t0 + seconds{1}));
  EXPECT_TRUE(boots.children().empty());
  tracker.script_served("y", "", "10.0.0.1", t0);  // sent to exit: not followed
  EXPECT_FALSE(tracker.ready("y", t0 + seconds{1}));
}

TEST_F(Phases, FollowsAtMostCapacityBoots) {
  for (int i = 0; i < 10; ++i) tracker.discover("m" + std::to_string(i), t0 + seconds{i});
  EXPECT_EQ(tracker.followed(), 4u);
  EXPECT_EQ(tracker.forgotten(), 6u);
  EXPECT_FALSE(tracker.ready("m0", t0 + seconds{20}));  // the first started were forgotten first
  EXPECT_TRUE(tracker.ready("m9", t0 + seconds{20}));
}

}  // namespace
}  // namespace ramfleet::boot
