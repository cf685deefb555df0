#include <iostream>

#include "cli/commands.hpp"

namespace ramfleet::cli {

namespace {
void add_serve_command(CLI::App& app, CommandTable& commands) {
  auto* sub = app.add_subcommand("serve", "Answer network boots: DHCP, TFTP (and HTTP)");
  commands.emplace_back(sub, [] {
    std::cerr << "serve: not implemented yet\n";
    return 1;
  });
}

const CommandRegistration kRegistration{10, add_serve_command};
}  // namespace

}  // namespace ramfleet::cli
