// ramfleet: one program that boots a rack of diskless machines.
// Each subcommand lives in its own file (cli/<name>_command.cpp) and registers itself.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <iostream>

#include "cli/commands.hpp"
#include "core/log.hpp"

namespace ramfleet::cli {
std::vector<std::pair<int, AddCommand>>& registered_commands() {
  static std::vector<std::pair<int, AddCommand>> all;
  return all;
}
CommandRegistration::CommandRegistration(int order, AddCommand add) { registered_commands().emplace_back(order, add); }
}  // namespace ramfleet::cli

int main(int argc, char** argv) {
  CLI::App app{"ramfleet: network boot and diskless Kubernetes, in one program"};
  app.require_subcommand(1);
  // Global flags may come after the subcommand too (`ramfleet serve --log-level
  // warn`): a subcommand hands options it does not know to the app. Set before
  // the subcommands are added, which inherit it.
  app.fallthrough();
  std::string log_level = "info";
  std::string log_format = "logfmt";
  app.add_option("--log-level", log_level, "trace, debug, info, warn, error")->capture_default_str();
  app.add_option("--log-format", log_format, "logfmt or json")
      ->check(CLI::IsMember({"logfmt", "json"}))
      ->capture_default_str();

  auto& registrations = ramfleet::cli::registered_commands();
  std::stable_sort(registrations.begin(), registrations.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  ramfleet::cli::CommandTable commands;
  for (auto& [order, add] : registrations) add(app, commands);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  ramfleet::log::init(log_level, log_format == "json" ? ramfleet::log::Format::json : ramfleet::log::Format::logfmt);
  for (auto& [sub, run] : commands) {
    if (!sub->parsed()) continue;
    // A failing state directory, file or library call ends any command with a
    // message and exit code 1, not a stack trace.
    try {
      return run();
    } catch (const std::exception& e) {
      std::cerr << "ramfleet: error: " << e.what() << "\n";
      return 1;
    }
  }
  return 2;
}
