#include <iostream>

#include "cli/commands.hpp"
#include "ramfleet_version.hpp"

namespace ramfleet::cli {

namespace {
void add_version_command(CLI::App& app, CommandTable& commands) {
  auto* sub = app.add_subcommand("version", "Print ramfleet's version");
  commands.emplace_back(sub, [] {
    std::cout << "ramfleet " << kVersion << "\n";
    return 0;
  });
}

const CommandRegistration kRegistration{90, add_version_command};
}  // namespace

}  // namespace ramfleet::cli
