// `ramfleet check` for the inventory (profiles/, groups/, inventory.yaml: bad
// YAML, unknown keys or profiles, duplicate ids, ties between groups) and for
// the HTTP service's http.yaml limits.
#include "cli/config_checks.hpp"
#include "http/settings.hpp"
#include "inventory/loader.hpp"

namespace ramfleet::cli {
namespace {
Diagnostics check_inventory(const std::filesystem::path& dir) {
  auto r = inventory::load_inventory(dir);
  Diagnostics out = std::move(r.diagnostics);
  http::HttpSettings scratch;
  http::apply_http_file(dir, scratch, out);
  return out;
}
const ConfigCheckRegistration kRegistration{"inventory", check_inventory};
}  // namespace
}  // namespace ramfleet::cli
