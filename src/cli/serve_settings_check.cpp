// Registers ramfleet.yaml's checker with `ramfleet check`.
#include "cli/config_checks.hpp"
#include "settings/serve_settings.hpp"

namespace ramfleet::cli {
namespace {
Diagnostics check_serve_settings(const std::filesystem::path& dir) {
  Diagnostics out;
  auto s = settings::default_serve_settings();
  settings::apply_serve_file(dir, s, out);
  return out;
}
const ConfigCheckRegistration kRegistration{"serve settings", check_serve_settings};
}  // namespace
}  // namespace ramfleet::cli
