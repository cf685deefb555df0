#include "config/target_limits.hpp"

#include <string>

namespace ramfleet::config {

void reject_ignition_only_features(const NodeConfig& c, std::string_view target, DiagnosticCollector& diag) {
  const auto unsupported = [&](const Location& at, const std::string& what) {
    diag.error(at, what + " cannot be expressed in " + std::string(target));
  };
  if (!c.config_merge.empty()) unsupported(c.config_merge.front().at, "ignition.config.merge");
  if (c.config_replace) unsupported(c.config_replace->at, "ignition.config.replace");
  if (!c.kernel_arguments.empty()) {
    const auto& ka = c.kernel_arguments;
    unsupported((ka.should_exist.empty() ? ka.should_not_exist : ka.should_exist).front().at,
                "kernel_arguments (the boot loader sets the kernel command line)");
  }
}

}  // namespace ramfleet::config
