#pragma once
// `ramfleet lab up` / `lab down`: N diskless QEMU machines (TCG) booting from
// a `ramfleet serve` inside a throw-away network namespace, with a RAM-root
// image built from this source tree. See docs/lab.md.
#include <filesystem>
#include <string>
#include <vector>

namespace ramfleet::lab {

struct UpOptions {
  int nodes = 3;
  std::string firmware = "bios";  // bios | uefi
  std::string image = "small";
  std::filesystem::path dir = "/run/ramfleet-lab";          // state, config, logs
  std::filesystem::path cache_dir = "/var/cache/ramfleet";  // downloaded kernel packages
  std::filesystem::path source_dir;                         // default: the tree ramfleet was built from
  int memory_mb = 0;                                        // 0: the image's default (default_memory_mb)
  int cpus = 0;                                             // 0: the image's default (default_cpus)
  int timeout_s = 300;
  // "etcd": every node is an etcd member of a generated cluster.yaml (the
  // image gets etcd; up waits until they form a healthy cluster). "": none.
  std::string cluster;
  std::string etcd_snapshot_interval = "30s";  // cluster.yaml etcd.snapshot.interval
  // How the root image reaches RAM: "initrd" (the image is the initrd; its
  // /init copies it into a tmpfs) or "stream" (the initrd is the small
  // stage-1 image, images/stage1, which streams the root into a tmpfs:
  // one copy, docs/images.md).
  std::string stage1 = "initrd";
  // With stream: announce this digest instead of the image's (tests a node
  // refusing a root that is not the one announced). Empty: the image's own.
  std::string stage1_sha256;
  // With stream: the nodes share the image's chunks peer to peer
  // (ramfleet.p2p=on, docs/scale.md) and seed them this many seconds after
  // their root is complete. -1: p2p off.
  int p2p_seed = -1;
};

// MiB of RAM a node of `image` gets unless --memory says otherwise: the
// kernel caps an initramfs at half of RAM, and the root is copied into a
// tmpfs beside it (debian: ~260 MB twice, plus systemd and containers; an
// etcd member: etcd's ~40 MB twice, plus etcd).
int default_memory_mb(const std::string& image, bool etcd = false);
// vCPUs per node unless --cpus says otherwise: systemd starts units in
// parallel, and QEMU's multi-threaded TCG runs 2 vCPUs on 2 host threads
// (debian: ready ~15-20% sooner than with 1); the small image's one shell
// script gains nothing.
int default_cpus(const std::string& image);

// Returns 0 when every node reported ready (the lab keeps running), 1 on a
// failure (everything removed, logs kept), 130 on SIGINT/SIGTERM.
int lab_up(const UpOptions& o);

// Power-cycles nodes of the running lab in `dir`, all at once (their QEMUs
// are stopped and started again: fresh RAM, firmware, network boot), and
// waits until each has reported `ready` again and, in an etcd lab, is a
// healthy voting member again. 0 when they did within `timeout_s`.
int lab_reboot(const std::filesystem::path& dir, const std::vector<std::string>& nodes, int timeout_s);

// Removes the lab recorded in `dir`: VMs and ramfleet by PID, then the
// namespace with its bridge and taps. 0 when nothing is left.
int lab_down(const std::filesystem::path& dir);

}  // namespace ramfleet::lab
