#pragma once
// Merged NodeConfig -> #cloud-config (cloud-init, RancherOS, Clear Linux-style
// images): write_files, users, groups, hostname (from /etc/hostname), runcmd
// for directories, links, numeric ownership and systemd units (written as
// files under /etc/systemd/system). Anything cloud-init cannot express
// (kernel arguments, remote sources, overwrite: false, gids...) is an error.
#include <optional>
#include <string>

#include "config/model.hpp"
#include "core/diagnostic.hpp"

namespace ramfleet::config {

std::optional<std::string> write_cloud_config(const NodeConfig& config, DiagnosticCollector& diag);

}  // namespace ramfleet::config
