#pragma once
// What the boot layer needs to know from the operator's settings. The
// transport fills it from its own (http/settings.hpp).
#include <chrono>
#include <filesystem>

namespace ramfleet::boot {

struct BootSettings {
  std::filesystem::path config_dir;  // inventory and cluster.yaml; empty: no inventory
  std::filesystem::path state_dir;   // the cluster's STATE (PKI, nodes/<name>, bootstrapped)
  // How long a boot token minted for an iPXE script stays good for the one
  // config fetch it allows.
  std::chrono::milliseconds boot_token_ttl{5 * 60 * 1000};
  // Boot tokens minted per requesting IP (/ipxe of machines with a cluster
  // role): a token bucket of `boot_token_burst`, refilled at
  // `boot_token_rate_per_min`; beyond it /ipxe answers 429. 0: no limit.
  double boot_token_rate_per_min = 12;
  double boot_token_burst = 10;
};

}  // namespace ramfleet::boot
