#pragma once
#include <CLI/CLI.hpp>
#include <functional>
#include <utility>
#include <vector>

namespace ramfleet::cli {

// Each subcommand registers its CLI11 parser and the function that runs it.
using CommandTable = std::vector<std::pair<CLI::App*, std::function<int()>>>;

void add_version_command(CLI::App& app, CommandTable& commands);
void add_check_command(CLI::App& app, CommandTable& commands);
void add_serve_command(CLI::App& app, CommandTable& commands);

}  // namespace ramfleet::cli
