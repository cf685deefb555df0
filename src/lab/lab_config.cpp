#include "lab/lab_config.hpp"

#include <cstdio>
#include <fstream>
#include <stdexcept>

namespace ramfleet::lab {
namespace {

void write_text(const std::filesystem::path& p, const std::string& text) {
  std::filesystem::create_directories(p.parent_path());
  auto tmp = p;
  tmp += ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << text;
    if (!out) throw std::runtime_error("cannot write " + tmp.string());
  }
  std::filesystem::rename(tmp, p);
}

}  // namespace

std::vector<NodeSpec> plan_nodes(int count, const std::string& firmware) {
  if (count < 1 || count > 100) throw std::invalid_argument("--nodes must be 1..100");
  std::vector<NodeSpec> nodes;
  for (int i = 1; i <= count; ++i) {
    char mac[32];
    std::snprintf(mac, sizeof mac, "52:54:00:99:00:%02x", i);
    nodes.push_back({"node" + std::to_string(i), mac, std::string(kLabNetwork) + "." + std::to_string(10 + i),
                     "tap" + std::to_string(i), firmware});
  }
  return nodes;
}

std::vector<std::string> node_kernel_args(bool ignition) {
  // quiet: every kernel line costs time on an emulated serial port.
  // panic=-1 with QEMU's -no-reboot: a panicking node stops its VM, which the lab sees.
  std::vector<std::string> args{"console=ttyS0",
                                "quiet",
                                "panic=-1",
                                "ramfleet.server={{server}}",
                                "ramfleet.id={{machine_id}}",
                                "ramfleet.hostname={{metadata.hostname}}"};
  // The real Ignition (-platform metal) reads its config URL from here.
  if (ignition) args.emplace_back("ignition.config.url={{ignition_url}}");
  return args;
}

void write_lab_config(const std::filesystem::path& config, const std::vector<NodeSpec>& nodes,
                      const ProfileAssets& assets) {
  std::string net = kLabNetwork;
  std::string y =
      "# Written by `ramfleet lab up`: full DHCP on the lab bridge, one reservation per node.\n"
      "interface: br0\n"
      "dhcp:\n"
      "  mode: full\n"
      "  subnets:\n"
      "    - subnet: " +
      net +
      ".0/24\n"
      "      pools: [" +
      net + ".100-" + net +
      ".199]\n"
      "  reservations:\n";
  for (const auto& n : nodes) y += "    - {mac: \"" + n.mac + "\", ip: " + n.ip + ", hostname: " + n.name + "}\n";
  y += "http:\n  port: 80\n";
  write_text(config / "ramfleet.yaml", y);

  std::filesystem::remove_all(config / "profiles");
  std::filesystem::remove_all(config / "groups");
  std::filesystem::remove_all(config / "configs");
  const bool ignition = !assets.ignition_layers.empty();
  std::string p =
      "# Written by `ramfleet lab up`.\nkernel: " + assets.kernel + "\ninitrds: [" + assets.initrd + "]\nargs:\n";
  for (const auto& a : node_kernel_args(ignition)) p += "  - \"" + a + "\"\n";
  if (ignition) {
    p += "config:\n  target: ignition\n  layers:\n";
    for (const auto& l : assets.ignition_layers) {
      p += "    - \"" + l.path + "\"\n";
      write_text(config / "configs" / l.path, l.text);
    }
  }
  write_text(config / "profiles" / (assets.name + ".yaml"), p);
  for (const auto& n : nodes) {
    // A stable machine-id per node ("ramfleet" in hex, then the MAC), as a
    // cluster node gets one: the Debian image's config delivers it, so the lab
    // shows that a delivered id survives reboots and leaves presets working.
    std::string machine_id = "72616d666c6565740000";
    for (char c : n.mac)
      if (c != ':') machine_id += c;
    write_text(config / "groups" / (n.name + ".yaml"), "profile: " + assets.name + "\nselector:\n  mac: \"" + n.mac +
                                                           "\"\nmetadata:\n  hostname: " + n.name +
                                                           "\n  machine_id: \"" + machine_id + "\"\n");
  }
  write_text(config / "inventory.yaml", "default: exit\n");
}

}  // namespace ramfleet::lab
