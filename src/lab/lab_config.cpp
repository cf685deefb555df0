#include "lab/lab_config.hpp"

#include <cstdio>
#include <fstream>
#include <stdexcept>

#include "core/hex.hpp"

namespace ramfleet::lab {
void write_text_file(const std::filesystem::path& p, const std::string& text) {
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

std::vector<NodeSpec> plan_nodes(int count, const std::string& firmware) {
  if (count < 1 || count > 100) throw std::invalid_argument("--nodes must be 1..100");
  std::vector<NodeSpec> nodes;
  for (int i = 1; i <= count; ++i) {
    std::string mac = "52:54:00:99:00:";
    append_hex(mac, static_cast<std::uint8_t>(i));
    nodes.push_back({"node" + std::to_string(i), mac, std::string(kLabNetwork) + "." + std::to_string(10 + i),
                     "tap" + std::to_string(i), firmware});
  }
  return nodes;
}

std::vector<std::string> node_kernel_args(ConfigDelivery delivery, const std::string& root_image,
                                          const std::string& root_sha256, int p2p_seed) {
  // quiet: every kernel line costs time on an emulated serial port.
  // panic=-1 with QEMU's -no-reboot: a panicking node stops its VM, which the lab sees.
  std::vector<std::string> args{"console=ttyS0", "quiet", "panic=-1", "ramfleet.server={{server}}",
                                "ramfleet.id={{machine_id}}", "ramfleet.hostname={{metadata.hostname}}",
                                // This boot's credential for the events API (docs/security.md).
                                "ramfleet.event_credential={{event_credential}}"};
  // The real Ignition (-platform metal) reads its config URL from here.
  if (delivery == ConfigDelivery::ignition) args.emplace_back("ignition.config.url={{ignition_url}}");
  // The small image's /init. Both URLs end in the machine's boot token.
  if (delivery == ConfigDelivery::apkovl) args.emplace_back("ramfleet.config={{apkovl_url}}");
  // images/stage1's /init: the root image to stream, and the digest it must have.
  if (!root_image.empty()) {
    args.emplace_back("ramfleet.root={{server}}/assets/" + root_image);
    args.emplace_back("ramfleet.root_sha256=" + root_sha256);
    // The image's chunks from the other nodes, ramfleet as tracker (docs/scale.md).
    if (p2p_seed >= 0) {
      args.emplace_back("ramfleet.p2p=on");
      args.emplace_back("ramfleet.p2p_seed=" + std::to_string(p2p_seed));
    }
  }
  return args;
}

std::string lab_cluster_yaml(const std::vector<NodeSpec>& nodes, const std::string& snapshot_interval) {
  std::string y =
      "# Written by `ramfleet lab up --cluster etcd`: every node is an etcd member (docs/lab.md).\n"
      "name: lab\n"
      "kubernetesVersion: v1.29.4\n"
      "distribution: kubeadm\n"
      "controlPlaneEndpoint: " +
      nodes.front().ip +
      ":6443\n"
      "etcd:\n"
      "  mode: ramfleet\n"
      "  snapshot: {interval: " +
      snapshot_interval +
      "}\n"
      "  members:\n";
  for (const auto& n : nodes) y += "    - {name: " + n.name + ", ip: " + n.ip + "}\n";
  y += "roles:\n  control-plane:\n";
  for (const auto& n : nodes) y += "    - hostname: " + n.name + "\n";
  // The default service subnet (10.96.0.0/12) holds the lab's 10.99.0.0/24.
  y += "networking: {podSubnet: 10.244.0.0/16, serviceSubnet: 172.20.0.0/16}\n";
  y += "pki:\n  keyAlgorithm: ecdsa-p256\n";
  return y;
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
  write_text_file(config / "ramfleet.yaml", y);

  std::filesystem::remove_all(config / "profiles");
  std::filesystem::remove_all(config / "groups");
  std::filesystem::remove_all(config / "configs");
  std::string p =
      "# Written by `ramfleet lab up`.\nkernel: " + assets.kernel + "\ninitrds: [" + assets.initrd + "]\nargs:\n";
  for (const auto& a : node_kernel_args(assets.delivery, assets.root_image, assets.root_sha256, assets.p2p_seed))
    p += "  - \"" + a + "\"\n";
  if (assets.delivery != ConfigDelivery::none) {
    p += std::string("config:\n  target: ") + (assets.delivery == ConfigDelivery::ignition ? "ignition" : "apkovl") +
         "\n  layers:\n";
    for (const auto& l : assets.config_layers) {
      p += "    - \"" + l.path + "\"\n";
      write_text_file(config / "configs" / l.path, l.text);
    }
  }
  write_text_file(config / "profiles" / (assets.name + ".yaml"), p);
  for (const auto& n : nodes) {
    // A stable machine-id per node ("ramfleet" in hex, then the MAC), as a
    // cluster node gets one: the Debian image's config delivers it, so the lab
    // shows that a delivered id survives reboots and leaves presets working.
    std::string machine_id = "72616d666c6565740000";
    for (char c : n.mac)
      if (c != ':') machine_id += c;
    write_text_file(config / "groups" / (n.name + ".yaml"), "profile: " + assets.name + "\nselector:\n  mac: \"" +
                                                                n.mac + "\"\nmetadata:\n  hostname: " + n.name +
                                                                "\n  machine_id: \"" + machine_id + "\"\n");
  }
  write_text_file(config / "inventory.yaml", "default: exit\n");
}

}  // namespace ramfleet::lab
