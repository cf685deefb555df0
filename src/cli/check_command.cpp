#include <iostream>

#include "cli/commands.hpp"

namespace ramfleet::cli {

namespace {
void add_check_command(CLI::App& app, CommandTable& commands) {
  auto* sub = app.add_subcommand("check", "Validate a config directory; errors name file:line:column");
  auto dir = std::make_shared<std::string>();
  sub->add_option("dir", *dir, "config directory")->required();
  commands.emplace_back(sub, [dir] {
    std::cerr << "check: not implemented yet\n";
    return 1;
  });
}

const CommandRegistration kRegistration{20, add_check_command};
}  // namespace

}  // namespace ramfleet::cli
