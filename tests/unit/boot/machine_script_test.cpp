#include "boot/machine_script.hpp"

#include <gtest/gtest.h>

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
