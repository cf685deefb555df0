#include "boot/machine_script.hpp"

#include <gtest/gtest.h>

#include <set>

using namespace ramfleet::inventory;
using namespace ramfleet::boot;

namespace {
Profile profile() {
  Profile p;
  p.id = "debian";
  p.kernel = "vmlinuz-{{arch}}";
  p.initrds = {"initrd.img", "http://mirror/extra.cpio"};
  p.args = {"console=ttyS0", "host={{hostname}}", "role={{metadata.role}}", "rack={{labels.rack}}"};
  return p;
}
MachineFacts facts(std::vector<std::pair<std::string, std::string>> params) { return facts_from_params(params).facts; }
}  // namespace

TEST(IpxeScript, RendersPerMachineVariables) {
  Group g;
  g.id = "workers";
  g.metadata = {{"role", "worker"}};
  auto f = facts({{"mac", "52:54:00:00:00:07"}, {"hostname", "n7"}, {"arch", "x86_64"}, {"rack", "r2"}});
  auto s = render_machine_script(profile(), machine_context(f, &g, profile(), "http://10.0.0.1:8080"), false, "c");
  EXPECT_NE(s.find("kernel http://10.0.0.1:8080/assets/vmlinuz-x86_64 console=ttyS0 host=n7 role=worker rack=r2"),
            std::string::npos)
      << s;
  EXPECT_NE(s.find("initrd --name initrd.img http://10.0.0.1:8080/assets/initrd.img"), std::string::npos) << s;
  EXPECT_NE(s.find("initrd --name extra.cpio http://mirror/extra.cpio"), std::string::npos) << s;
  EXPECT_EQ(s.find("initrd=initrd.img"), std::string::npos) << "BIOS kernels get initrds from iPXE";
  EXPECT_EQ(s.rfind("#!ipxe\n", 0), 0U);
}

TEST(IpxeScript, UefiKernelsNameTheirInitrds) {
  auto f = facts({{"mac", "52:54:00:00:00:07"}, {"platform", "efi"}});
  auto s = render_machine_script(profile(), machine_context(f, nullptr, profile(), "http://s"), true, "c");
  EXPECT_NE(s.find(" initrd=initrd.img initrd=extra.cpio console=ttyS0"), std::string::npos) << s;
}

TEST(IpxeScript, VariablesCannotInjectCommands) {
  EXPECT_EQ(ipxe_escape("a b\nc${x}"), "a_b_c__x_");
  Profile p;
  p.kernel = "k";
  p.args = {"m={{manufacturer}}"};
  auto f = facts({{"mac", "52:54:00:00:00:07"}, {"manufacturer", "Acme Inc"}});
  auto s = render_machine_script(p, machine_context(f, nullptr, p, "http://s"), false, "x\nboot");
  EXPECT_NE(s.find("m=Acme_Inc"), std::string::npos) << s;
  EXPECT_EQ(s.find("\nboot\n"), std::string::npos) << "comment newline must not start a command";
}

TEST(IpxeScript, BootScriptChainsWithEveryFact) {
  auto s = render_boot_script("http://10.0.0.1:8080");
  EXPECT_NE(s.find("chain --autofree http://10.0.0.1:8080/ipxe?"), std::string::npos) << s;
  for (const char* k : {"mac=${netX/mac}", "uuid=${uuid}", "arch=${buildarch}", "platform=${platform}",
                        "hostname=${hostname:uristring}", "serial=${serial:uristring}",
                        "manufacturer=${manufacturer:uristring}", "product=${product:uristring}"})
    EXPECT_NE(s.find(k), std::string::npos) << k;
}

TEST(IpxeScript, ExitScriptExits) {
  auto s = render_exit_script("unknown");
  EXPECT_NE(s.find("\nexit\n"), std::string::npos);
}

// The retry loop (docs/scale.md, "Admission control"): bounded tries, a wait
// that doubles plus the machine's own jitter, a message, then exit.
TEST(IpxeScript, MachineScriptRetriesItsFetchesThenExits) {
  auto f = facts({{"mac", "52:54:00:00:00:07"}});
  ScriptRetry retry;
  retry.tries = 4;
  retry.first_wait_s = 3;
  retry.jitter_s = 2;
  auto s = render_machine_script(profile(), machine_context(f, nullptr, profile(), "http://s"), false, "c", retry);
  // Counters set before the first try, so a second run of the script starts over.
  const auto set_at = s.find("set rf_boot_try:int32 0\nset rf_boot_wait:int32 3\n:rf_boot\ninc rf_boot_try:int32\n");
  ASSERT_NE(set_at, std::string::npos) << s;
  EXPECT_LT(set_at, s.find("kernel "));
  EXPECT_NE(s.find("kernel http://s/assets/vmlinuz- console=ttyS0"), std::string::npos) << s;
  EXPECT_NE(s.find("initrd --name initrd.img http://s/assets/initrd.img || goto rf_boot_failed\n"), std::string::npos);
  EXPECT_NE(s.find("boot || goto rf_boot_failed\n"), std::string::npos) << s;
  EXPECT_NE(s.find("iseq ${rf_boot_try:int32} 4 && goto rf_boot_give_up || goto rf_boot_wait\n"), std::string::npos);
  EXPECT_NE(s.find("imgfree\nsleep ${rf_boot_wait:int32}\nsleep 2\ninc rf_boot_wait:int32 ${rf_boot_wait:int32}\n"
                   "goto rf_boot\n"),
            std::string::npos)
      << s;
  EXPECT_NE(s.find("giving up"), std::string::npos);
  EXPECT_TRUE(
      s.ends_with(":rf_boot_give_up\necho ramfleet: fetching or booting this machine's kernel and initrds "
                  "failed 4 times, giving up: exiting to the firmware, which boots its next device\nexit 0\n"))
      << s;
}

TEST(IpxeScript, BootScriptRetriesItsChainThenExits) {
  ScriptRetry retry;
  retry.jitter_s = 4;
  auto s = render_boot_script("http://10.0.0.1:8080", retry);
  EXPECT_NE(s.find("set rf_chain_try:int32 0\nset rf_chain_wait:int32 2\n:rf_chain\ninc rf_chain_try:int32\n"
                   "chain --autofree http://10.0.0.1:8080/ipxe?"),
            std::string::npos)
      << s;
  EXPECT_NE(s.find("|| goto rf_chain_failed\nexit\n:rf_chain_failed\n"), std::string::npos) << s;
  EXPECT_NE(s.find("iseq ${rf_chain_try:int32} 6 && goto rf_chain_give_up"), std::string::npos) << s;
  EXPECT_NE(s.find("sleep 4\n"), std::string::npos) << s;
  EXPECT_TRUE(s.ends_with("exit 1\n")) << s;
}

TEST(IpxeScript, JitterIsPerKeyStableAndBounded) {
  EXPECT_EQ(jitter_seconds("52:54:00:00:00:07"), jitter_seconds("52:54:00:00:00:07"));
  std::set<unsigned> seen;
  for (int i = 0; i < 200; ++i) {
    const unsigned j = jitter_seconds("52:54:00:00:01:" + std::to_string(i), 5);
    EXPECT_GE(j, 1U);
    EXPECT_LE(j, 5U);
    seen.insert(j);
  }
  EXPECT_EQ(seen.size(), 5U) << "200 machines spread over every second of the spread";
  EXPECT_EQ(jitter_seconds("x", 0), 0U);
}
