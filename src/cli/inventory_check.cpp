// `ramfleet check` for the inventory (profiles/, groups/, inventory.yaml: bad
// YAML, unknown keys or profiles, duplicate ids, ties between groups). The
// HTTP limits (ramfleet.yaml's http:, the older http.yaml) are checked with
// ramfleet.yaml (serve_settings_check.cpp).
#include "boot/load_inventory.hpp"
#include "cli/config_checks.hpp"

namespace ramfleet::cli {
namespace {
Diagnostics check_inventory(const std::filesystem::path& dir) { return boot::load_inventory(dir).diagnostics; }
const ConfigCheckRegistration kRegistration{"inventory", check_inventory};
}  // namespace
}  // namespace ramfleet::cli
