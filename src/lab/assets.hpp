#pragma once
// What a lab's nodes boot: Debian's kernel (scripts/build-node-kernel) and a
// RAM-root image built from images/<image>/ in the source tree, packed
// content-addressed into the lab's assets directory, plus the config layer
// the image's nodes are served (images/<image>/lab-node.bu).
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "lab/lab.hpp"
#include "lab/lab_config.hpp"

namespace ramfleet::lab {

struct Prepared {
  std::string kernel_asset;
  std::string image_asset;
  std::string image_id;
  std::uint64_t image_bytes = 0;
  // With --stage1 stream: the stage-1 initrd (images/stage1) the nodes boot,
  // which fetches image_asset itself.
  std::string stage1_asset;
  ConfigDelivery delivery = ConfigDelivery::none;
  std::vector<ConfigLayer> config_layers;  // what the lab serves the nodes
};

// The tree images/ and scripts/ are taken from (--source-dir, else
// $RAMFLEET_SOURCE_DIR, else the tree ramfleet was built from).
std::filesystem::path source_dir(const UpOptions& o);

// Kernel package -> assets/kernels/<version>/vmlinuz; images/<image>/build-rootfs
// (with RAMFLEET_IMAGE_ETCD=1 for an etcd cluster) -> image. The Debian image
// always gets its Ignition layer; the small one gets an apkovl layer when the
// nodes need a config (an etcd cluster). With --stage1 stream the stage-1
// initrd is built too (images/stage1/build-rootfs, with the static
// ramfleet-stage1 from $RAMFLEET_STAGE1_BIN or beside this binary).
// Throws std::runtime_error.
Prepared prepare_assets(const UpOptions& o, const std::filesystem::path& assets);

}  // namespace ramfleet::lab
