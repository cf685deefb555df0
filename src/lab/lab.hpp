#pragma once
// `ramfleet lab up` / `lab down`: N diskless QEMU machines (TCG) booting from
// a `ramfleet serve` inside a throw-away network namespace, with a RAM-root
// image built from this source tree. See docs/lab.md.
#include <filesystem>
#include <string>

namespace ramfleet::lab {

struct UpOptions {
  int nodes = 3;
  std::string firmware = "bios";  // bios | uefi
  std::string image = "small";
  std::filesystem::path dir = "/run/ramfleet-lab";          // state, config, logs
  std::filesystem::path cache_dir = "/var/cache/ramfleet";  // downloaded kernel packages
  std::filesystem::path source_dir;                         // default: the tree ramfleet was built from
  int memory_mb = 512;
  int timeout_s = 300;
};

// Returns 0 when every node reported ready (the lab keeps running), 1 on a
// failure (everything removed, logs kept), 130 on SIGINT/SIGTERM.
int lab_up(const UpOptions& o);

// Power-cycles one node of the running lab in `dir` (its QEMU is stopped and
// started again: fresh RAM, firmware, network boot) and waits until it has
// reported `ready` again. 0 when it did within `timeout_s`.
int lab_reboot(const std::filesystem::path& dir, const std::string& node, int timeout_s);

// Removes the lab recorded in `dir`: VMs and ramfleet by PID, then the
// namespace with its bridge and taps. 0 when nothing is left.
int lab_down(const std::filesystem::path& dir);

}  // namespace ramfleet::lab
