// `ramfleet lab up` / `lab down`: diskless QEMU machines booting from ramfleet
// in a throw-away network namespace (docs/lab.md).
#include <iostream>
#include <memory>

#include "cli/commands.hpp"
#include "core/duration.hpp"
#include "lab/lab.hpp"

namespace ramfleet::cli {
namespace {

// --timeout reads the one duration grammar ("300", "90s", "5m") and hands the
// lab whole seconds, so the Range check below still counts seconds.
CLI::Validator duration_in_seconds() {
  return CLI::Validator(
      [](std::string& value) -> std::string {
        auto d = parse_duration(value, BareUnit::seconds);
        if (!d || d->count() % 1000 != 0) return "not a duration in whole seconds like 300, 90s or 5m";
        value = std::to_string(d->count() / 1000);
        return {};
      },
      "DURATION");
}

void add_lab_command(CLI::App& app, CommandTable& commands) {
  auto* lab = app.add_subcommand("lab", "Boot diskless QEMU machines from ramfleet in a network namespace (root)");
  lab->require_subcommand(1);
  auto o = std::make_shared<lab::UpOptions>();
  auto dir = std::make_shared<std::string>(o->dir.string());

  auto* up =
      lab->add_subcommand("up", "Build the node image, start ramfleet and N VMs, wait until every node is ready");
  up->add_option("--nodes,-n", o->nodes, "number of VMs")->check(CLI::Range(1, 100))->capture_default_str();
  up->add_option("--firmware", o->firmware, "bios (SeaBIOS + iPXE ROM) or uefi (OVMF PXE -> TFTP -> iPXE)")
      ->check(CLI::IsMember({"bios", "uefi"}))
      ->capture_default_str();
  up->add_option("--image", o->image,
                 "node image (images/<name>/ in the source tree): small (busybox) or debian (systemd, Ignition)")
      ->check(CLI::IsMember({"small", "debian"}))
      ->capture_default_str();
  up->add_option("--dir", *dir, "lab state, config and logs")->capture_default_str();
  up->add_option("--cache", o->cache_dir, "download cache (kernel package)")->capture_default_str();
  up->add_option("--source-dir", o->source_dir, "ramfleet source tree (default: the one it was built from)");
  up->add_option("--cluster", o->cluster,
                 "etcd: the nodes are the etcd members of a generated cluster.yaml; wait until they form a healthy "
                 "cluster")
      ->check(CLI::IsMember({"etcd"}));
  up->add_option("--etcd-snapshot-interval", o->etcd_snapshot_interval,
                 "with --cluster etcd: how often ramfleet snapshots the cluster (cluster.yaml etcd.snapshot.interval)")
      ->capture_default_str();
  up->add_option("--memory", o->memory_mb,
                 "MiB of RAM per VM (default: 512 for small, 768 for small with --cluster etcd, 2048 for debian)")
      ->check(CLI::Range(128, 65536));
  up->add_option("--stage1", o->stage1,
                 "how the root image reaches RAM: initrd (the image is the initrd, copied into a tmpfs) or stream "
                 "(a small stage-1 initrd streams it into a tmpfs: one copy, less RAM; docs/images.md)")
      ->check(CLI::IsMember({"initrd", "stream"}))
      ->capture_default_str();
  up->add_option("--stage1-sha256", o->stage1_sha256,
                 "with --stage1 stream: announce this root digest instead of the image's (to see a node refuse it)")
      ->check([](const std::string& v) {
        return v.size() == 64 && v.find_first_not_of("0123456789abcdef") == std::string::npos
                   ? std::string()
                   : std::string("64 lower-case hex digits");
      });
  auto p2p = std::make_shared<bool>(false);
  auto p2p_seed = std::make_shared<int>(60);
  up->add_flag("--p2p", *p2p,
               "with --stage1 stream: the nodes take the image's chunks from each other, ramfleet tracking who holds "
               "what (ramfleet.p2p=on; docs/scale.md)");
  up->add_option("--p2p-seed", *p2p_seed,
                 "with --p2p: seconds each node keeps serving chunks after its root is complete")
      ->check(CLI::Range(0, 3600))
      ->capture_default_str();
  up->add_option("--cpus", o->cpus, "vCPUs per VM (default: 1 for small, 2 for debian)")->check(CLI::Range(1, 64));
  up->add_option("--timeout", o->timeout_s, "time until every node must be ready (seconds, or 90s, 5m, 1h)")
      ->transform(duration_in_seconds())
      ->check(CLI::Range(1, 3600))
      ->capture_default_str();
  commands.emplace_back(up, [o, dir, p2p, p2p_seed] {
    o->dir = *dir;
    if (*p2p && o->stage1 != "stream") {
      std::cerr << "ramfleet lab up: --p2p needs --stage1 stream (the stage-1 fetcher is the peer)\n";
      return 2;
    }
    o->p2p_seed = *p2p ? *p2p_seed : -1;
    return lab::lab_up(*o);
  });

  auto node = std::make_shared<std::vector<std::string>>();
  auto reboot_timeout = std::make_shared<int>(300);
  auto* reboot = lab->add_subcommand(
      "reboot", "Power-cycle nodes at once and wait until they report ready again (and are etcd voters again)");
  reboot->add_option("node", *node, "node names (node1 node2 ...): several are power-cycled at the same moment")
      ->required();
  reboot->add_option("--dir", *dir, "lab state directory")->capture_default_str();
  reboot->add_option("--timeout", *reboot_timeout, "time until it must be ready (seconds, or 90s, 5m, 1h)")
      ->transform(duration_in_seconds())
      ->check(CLI::Range(1, 3600))
      ->capture_default_str();
  commands.emplace_back(reboot, [dir, node, reboot_timeout] { return lab::lab_reboot(*dir, *node, *reboot_timeout); });

  auto* down = lab->add_subcommand("down", "Stop the lab's VMs and ramfleet (by PID) and remove its namespace");
  down->add_option("--dir", *dir, "lab state directory")->capture_default_str();
  commands.emplace_back(down, [dir] { return lab::lab_down(*dir); });
}

const CommandRegistration kRegistration{50, add_lab_command};
}  // namespace

}  // namespace ramfleet::cli
