#pragma once
// The lab's config directory for `ramfleet serve --config`: ramfleet.yaml
// (full DHCP on the lab bridge, one reservation per node MAC so addresses are
// stable), one profile (kernel + image + kernel arguments, and for images
// that run Ignition its config layers), one group per node (exact MAC ->
// hostname in metadata), default `exit`.
#include <filesystem>
#include <string>
#include <vector>

#include "lab/lab_state.hpp"

namespace ramfleet::lab {

inline constexpr const char* kLabNetwork = "10.99.0";  // /24 inside the lab's own namespace

// Writes through a temporary file and a rename (nothing half-written is served).
void write_text_file(const std::filesystem::path& p, const std::string& text);

// node1..nodeN: MAC 52:54:00:99:00:<i>, address <network>.<10+i>, tap<i>.
std::vector<NodeSpec> plan_nodes(int count, const std::string& firmware);

// A Butane layer written to <config>/configs/<path> and listed in the profile.
struct ConfigLayer {
  std::string path;
  std::string text;
};

// How a node gets its compiled config, if it gets one.
enum class ConfigDelivery {
  none,
  ignition,  // the Debian image: the real Ignition reads ignition.config.url={{ignition_url}}
  apkovl,    // the small image: its /init fetches ramfleet.config={{apkovl_url}} and unpacks it onto /
};

struct ProfileAssets {
  std::string kernel;  // asset path, e.g. kernels/6.1.0-56-amd64/vmlinuz
  std::string initrd;  // images/<sha256>/rootfs.cpio.zst
  std::string name;    // profile id ("small", "debian")
  // Streamed: `initrd` is the stage-1 image, which fetches this root image
  // (kernel arguments ramfleet.root= and ramfleet.root_sha256=).
  std::string root_image;   // images/<sha256>/rootfs.cpio.zst; empty: the initrd is the root
  std::string root_sha256;  // the digest announced (the image's id, unless a test says otherwise)
  // With a delivery, the profile gets `config: {target: ..., layers: ...}`
  // and the kernel argument that names the machine's config URL.
  ConfigDelivery delivery = ConfigDelivery::none;
  std::vector<ConfigLayer> config_layers;
  int p2p_seed = -1;  // streamed: >= 0 turns p2p on (ramfleet.p2p=on ramfleet.p2p_seed=N)
};

// The profile's kernel arguments: what the image's /init reads (and, when
// streamed, what the stage-1 initrd reads: the root image's URL and digest).
std::vector<std::string> node_kernel_args(ConfigDelivery delivery, const std::string& root_image = {},
                                          const std::string& root_sha256 = {}, int p2p_seed = -1);

// cluster.yaml for `lab up --cluster etcd`: every node is an etcd member
// (etcd.mode: ramfleet: the node runs etcd from its compiled config, ramfleet
// owns membership and snapshots, docs/etcd.md) and takes the control-plane
// role by name. ECDSA keys: `cluster init` issues them in milliseconds.
std::string lab_cluster_yaml(const std::vector<NodeSpec>& nodes, const std::string& snapshot_interval);

// Writes every file (profiles/ and groups/ are replaced whole).
void write_lab_config(const std::filesystem::path& config, const std::vector<NodeSpec>& nodes,
                      const ProfileAssets& assets);

}  // namespace ramfleet::lab
