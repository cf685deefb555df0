#include <iostream>
#include <memory>

#include "cli/commands.hpp"
#include "cli/config_checks.hpp"

namespace ramfleet::cli {

std::vector<std::pair<std::string, ConfigChecker>>& registered_config_checks() {
  static std::vector<std::pair<std::string, ConfigChecker>> all;
  return all;
}
ConfigCheckRegistration::ConfigCheckRegistration(const char* name, ConfigChecker checker) {
  registered_config_checks().emplace_back(name, checker);
}

namespace {
void add_check_command(CLI::App& app, CommandTable& commands) {
  auto* sub = app.add_subcommand("check", "Validate a config directory; errors name file:line:column");
  auto dir = std::make_shared<std::string>();
  sub->add_option("dir", *dir, "config directory")->required()->check(CLI::ExistingDirectory);
  commands.emplace_back(sub, [dir] {
    std::size_t errors = 0, warnings = 0;
    for (const auto& [name, checker] : registered_config_checks()) {
      for (const auto& d : checker(*dir)) {
        std::cerr << d.str() << "\n";
        (d.is_error() ? errors : warnings)++;
      }
    }
    std::cerr << "check: " << errors << " error(s), " << warnings << " warning(s)\n";
    return errors == 0 ? 0 : 1;
  });
}
const CommandRegistration kRegistration{20, add_check_command};
}  // namespace

}  // namespace ramfleet::cli
