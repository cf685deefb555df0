// ramfleet: one program that boots a rack of diskless machines.
// Each subcommand lives in its own file (cli/<name>_command.cpp).
#include <CLI/CLI.hpp>

#include "cli/commands.hpp"
#include "core/log.hpp"

int main(int argc, char** argv) {
  CLI::App app{"ramfleet: network boot and diskless Kubernetes, in one program"};
  app.require_subcommand(1);
  std::string log_level = "info";
  std::string log_format = "logfmt";
  app.add_option("--log-level", log_level, "trace, debug, info, warn, error")->capture_default_str();
  app.add_option("--log-format", log_format, "logfmt or json")
      ->check(CLI::IsMember({"logfmt", "json"}))
      ->capture_default_str();

  ramfleet::cli::CommandTable commands;
  ramfleet::cli::add_version_command(app, commands);
  ramfleet::cli::add_check_command(app, commands);
  ramfleet::cli::add_serve_command(app, commands);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  ramfleet::log::init(log_level, log_format == "json" ? ramfleet::log::Format::json : ramfleet::log::Format::logfmt);
  for (auto& [sub, run] : commands) {
    if (sub->parsed()) return run();
  }
  return 2;
}
