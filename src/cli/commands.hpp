#pragma once
// Subcommands register themselves: each cli/<name>_command.cpp defines a
// static CommandRegistration, so adding a command touches no shared file.
#include <CLI/CLI.hpp>
#include <functional>
#include <utility>
#include <vector>

namespace ramfleet::cli {

// The parsed subcommand and the function that runs it; returns the exit code.
using CommandTable = std::vector<std::pair<CLI::App*, std::function<int()>>>;
using AddCommand = void (*)(CLI::App& app, CommandTable& commands);

struct CommandRegistration {
  // order: position in --help (lower first).
  CommandRegistration(int order, AddCommand add);
};

// All registrations, sorted by order.
std::vector<std::pair<int, AddCommand>>& registered_commands();

}  // namespace ramfleet::cli
