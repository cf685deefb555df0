// The after-storm report's core: each machine's last step, since when, and
// why it stopped there (boot/boot_progress.hpp).
#include "boot/boot_progress.hpp"

#include <gtest/gtest.h>

namespace ramfleet::boot {
namespace {

constexpr std::int64_t t0 = 1'700'000'000'000;
const std::string a = "52:54:00:00:00:01";
const std::string b = "52:54:00:00:00:02";

TEST(BootProgress, FollowsABootToReadyAndLeavesItOutOfTheReport) {
  BootProgress p;
  p.dhcp_answered(a, t0);
  p.tftp(a, "10.0.0.7", "fetched undionly.kpxe over TFTP", t0 + 1000);
  p.dhcp_answered(a, t0 + 2000);  // iPXE's own DHCP: the same boot
  p.script_served(a, "worker", "10.0.0.7", t0 + 3000);
  p.asset_requested("10.0.0.7", "/assets/vmlinuz", t0 + 4000);
  p.asset_requested("10.0.0.9", "/assets/vmlinuz", t0 + 4000);  // nobody we know: ignored
  p.config_served(a, "10.0.0.7", "ignition", t0 + 9000);
  p.node_event(a, BootStep::booted, "", t0 + 10000);
  auto s = p.stalled(0, 0, t0 + 11000, 100);
  ASSERT_EQ(s.total, 1u);
  EXPECT_EQ(s.machines[0].step, BootStep::booted);
  EXPECT_EQ(s.machines[0].boot_started_ms, t0);
  EXPECT_EQ(s.machines[0].profile, "worker");
  p.node_event(a, BootStep::ready, "", t0 + 12000);
  EXPECT_EQ(p.stalled(0, 0, t0 + 13000, 100).total, 0u);
  EXPECT_EQ(p.find(a)->step, BootStep::ready);
}

TEST(BootProgress, NamesTheStepAndTheReason) {
  BootProgress p;
  // a: got its script, never fetched a kernel.
  p.dhcp_answered(a, t0);
  p.script_served(a, "small", "10.0.0.7", t0 + 1000);
  // b: its config refused.
  p.dhcp_answered(b, t0 + 500);
  p.script_served(b, "small", "10.0.0.8", t0 + 1500);
  p.asset_requested("10.0.0.8", "/assets/vmlinuz", t0 + 2000);
  p.asset_requested("10.0.0.8", "/assets/initrd.img", t0 + 2500);
  p.config_refused(b, "10.0.0.8", "token_reused: the boot token was already used", t0 + 3000);
  auto s = p.stalled(0, 0, t0 + 60000, 100);
  ASSERT_EQ(s.total, 2u);
  EXPECT_EQ(s.machines[0].machine_id, a);  // the boot started first, first
  EXPECT_EQ(s.machines[0].step, BootStep::script);
  EXPECT_EQ(BootProgress::reason(s.machines[0]), "got its iPXE script (profile small); never asked for its kernel");
  EXPECT_EQ(s.machines[1].step, BootStep::config_refused);
  EXPECT_EQ(BootProgress::reason(s.machines[1]),
            "its config was refused: token_reused: the boot token was already used");
  EXPECT_EQ(s.machines[1].address, "10.0.0.8");
}

TEST(BootProgress, AnAssetNamesTheLastFileFetched) {
  BootProgress p;
  p.script_served(a, "small", "10.0.0.7", t0);
  p.asset_requested("10.0.0.7", "/assets/vmlinuz", t0 + 1);
  p.asset_paced("10.0.0.7", "/assets/initrd.img", 4, t0 + 2);
  EXPECT_EQ(p.find(a)->step, BootStep::paced);
  EXPECT_NE(p.find(a)->detail.find("503 Retry-After 4 s"), std::string::npos);
  p.asset_requested("10.0.0.7", "/assets/initrd.img", t0 + 3);
  EXPECT_EQ(p.find(a)->step, BootStep::kernel);
  EXPECT_EQ(p.find(a)->detail, "asked for /assets/initrd.img");
}

TEST(BootProgress, SinceAndIdleFilter) {
  BootProgress p;
  p.dhcp_answered(a, t0);
  p.dhcp_answered(b, t0 + 10000);
  EXPECT_EQ(p.stalled(t0 + 5000, 0, t0 + 20000, 100).total, 1u);  // a started before since
  EXPECT_EQ(p.stalled(0, 15000, t0 + 20000, 100).total, 1u);      // b moved 10 s ago: still moving
  EXPECT_EQ(p.stalled(0, 0, t0 + 20000, 1).machines.size(), 1u);  // limit
  EXPECT_EQ(p.stalled(0, 0, t0 + 20000, 1).total, 2u);
}

TEST(BootProgress, ARestartStartsANewBoot) {
  BootProgress p;
  p.dhcp_answered(a, t0);
  p.script_served(a, "small", "10.0.0.7", t0 + 1000);
  p.node_event(a, BootStep::error, "root image digest mismatch", t0 + 5000);
  EXPECT_EQ(BootProgress::reason(*p.find(a)), "reported error: root image digest mismatch");
  p.dhcp_answered(a, t0 + 60000);  // the firmware again, after a later step: a new boot
  EXPECT_EQ(p.find(a)->step, BootStep::dhcp);
  EXPECT_EQ(p.find(a)->boot_started_ms, t0 + 60000);
  // TFTP after the script is ignored; before it, it is this boot's step.
  p.tftp(a, "10.0.0.7", "fetched undionly.kpxe over TFTP", t0 + 61000);
  EXPECT_EQ(p.find(a)->step, BootStep::tftp);
  EXPECT_EQ(p.find(a)->boot_started_ms, t0 + 60000);
}

TEST(BootProgress, BoundedAndForgetsTheLeastRecentlyUpdated) {
  BootProgress p(2);
  p.script_served(a, "small", "10.0.0.7", t0);
  p.dhcp_answered(b, t0 + 1);
  p.dhcp_answered(a, t0 + 2);  // a updated: b is now the oldest
  p.dhcp_answered("52:54:00:00:00:03", t0 + 3);
  EXPECT_EQ(p.followed(), 2u);
  EXPECT_EQ(p.forgotten(), 1u);
  EXPECT_EQ(p.find(b), nullptr);
  EXPECT_NE(p.find(a), nullptr);
  const std::string huge(10000, 'x');
  p.config_refused(a, "10.0.0.7", huge, t0 + 4);
  EXPECT_EQ(p.find(a)->detail.size(), BootProgress::kMaxDetail);
}

}  // namespace
}  // namespace ramfleet::boot
