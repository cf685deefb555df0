#pragma once
// Merged NodeConfig -> Alpine apkovl: a deterministic .tar.gz overlay that
// Alpine's initramfs unpacks over / (kernel option apkovl=URL). Files,
// directories and links go in as they are; enabled .service units become
// OpenRC links etc/runlevels/default/<name> -> /etc/init.d/<name>; users and
// groups are created at boot by etc/local.d/ramfleet-users.start.
#include <optional>
#include <string>

#include "config/model.hpp"
#include "core/diagnostic.hpp"

namespace ramfleet::config {

std::optional<std::string> write_apkovl(const NodeConfig& config, DiagnosticCollector& diag);

}  // namespace ramfleet::config
