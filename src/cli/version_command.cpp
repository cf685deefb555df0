#include <iostream>

#include "cli/commands.hpp"
#include "ramfleet_version.hpp"

namespace ramfleet::cli {

void add_version_command(CLI::App& app, CommandTable& commands) {
  auto* sub = app.add_subcommand("version", "Print ramfleet's version");
  commands.emplace_back(sub, [] {
    std::cout << "ramfleet " << kVersion << "\n";
    return 0;
  });
}

}  // namespace ramfleet::cli
