// ramfleet compile: Butane YAML layers -> Ignition JSON, cloud-config or an
// Alpine apkovl, with errors as file:line:column. Several FILEs are layers,
// merged in the order given (cluster, role, group, machine).
#include <yaml-cpp/yaml.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <memory>

#include "cli/commands.hpp"
#include "config/compile.hpp"
#include "core/yaml_fields.hpp"

namespace ramfleet::cli {

namespace {

struct CompileArgs {
  std::vector<std::string> files;
  std::string files_dir;
  bool strict = false;
  bool pretty = false;
  std::string ignition_version;
  std::string target = "ignition";
  std::string output;
  std::vector<std::string> vars;
  std::string vars_file;
};

std::optional<std::string> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

config::Variables yaml_to_variables(const YAML::Node& n) {
  if (n.IsMap()) {
    config::Variables obj = config::Variables::object();
    for (auto it = n.begin(); it != n.end(); ++it) {
      const YAML::Node k = it->first;
      const YAML::Node v = it->second;
      obj[k.Scalar()] = yaml_to_variables(v);
    }
    return obj;
  }
  if (n.IsSequence()) {
    config::Variables arr = config::Variables::array();
    for (const auto& item : n) arr.push_back(yaml_to_variables(item));
    return arr;
  }
  if (n.IsScalar()) return n.Scalar();
  return nullptr;
}

// Writes through a temporary file and a rename: a failed compile never leaves a partial output.
bool write_output(const std::string& path, const std::string& data) {
  std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) return false;
    out.write(data.data(), static_cast<std::streamsize>(data.size()));
    if (!out) return false;
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  return !ec;
}

int run_compile(const CompileArgs& args) {
  auto target = config::parse_target(args.target);
  if (!target) {
    std::cerr << "compile: unknown --target '" << args.target << "' (ignition, cloud-config, apkovl)\n";
    return 2;
  }
  config::CompileOptions options;
  options.strict = args.strict;
  options.pretty = args.pretty;
  if (!args.files_dir.empty()) options.files_dir = args.files_dir;
  if (!args.ignition_version.empty()) {
    options.ignition_version = config::IgnitionSpec::parse(args.ignition_version);
    if (!options.ignition_version) {
      std::cerr << "compile: --ignition-version '" << args.ignition_version << "' is not X.Y.Z\n";
      return 2;
    }
  }

  config::Variables vars = config::Variables::object();
  if (!args.vars_file.empty()) {
    Diagnostics diags;
    YamlFields y(args.vars_file, diags);
    auto root = y.load();
    if (root && y.expect_map(*root, "variables file")) vars = yaml_to_variables(*root);
    for (const auto& d : diags) std::cerr << d.str() << "\n";
    if (has_errors(diags)) return 1;
  }
  for (const auto& kv : args.vars) {
    auto eq = kv.find('=');
    if (eq == std::string::npos || eq == 0) {
      std::cerr << "compile: --var '" << kv << "' is not key=value\n";
      return 2;
    }
    config::set_variable(vars, std::string_view(kv).substr(0, eq), kv.substr(eq + 1));
  }

  std::vector<config::LayerSource> layers;
  for (const auto& file : args.files) {
    auto text = read_file(file);
    if (!text) {
      std::cerr << file << ": error: cannot read file\n";
      return 1;
    }
    layers.push_back({file, std::move(*text)});
  }

  auto result = config::compile_machine(layers, vars, *target, options);
  std::cerr << config::format_diagnostics(result.diagnostics);
  if (!result.ok()) return 1;
  if (args.output.empty() || args.output == "-") {
    std::cout.write(result.output->data(), static_cast<std::streamsize>(result.output->size()));
    std::cout.flush();
    return std::cout ? 0 : 1;
  }
  if (!write_output(args.output, *result.output)) {
    std::cerr << "compile: cannot write " << args.output << "\n";
    return 1;
  }
  return 0;
}

void add_compile_command(CLI::App& app, CommandTable& commands) {
  auto* sub = app.add_subcommand(
      "compile", "Compile Butane YAML layers to Ignition, cloud-config or an Alpine apkovl (errors: file:line:col)");
  auto args = std::make_shared<CompileArgs>();
  sub->add_option("files", args->files, "layers, merged in order (cluster, role, group, machine)")->required();
  sub->add_option("--files-dir,-d", args->files_dir, "directory for local: contents and trees");
  sub->add_flag("--strict", args->strict, "treat warnings as errors");
  sub->add_flag("--pretty,-p", args->pretty, "indent the Ignition JSON");
  sub->add_option("--ignition-version", args->ignition_version, "force the Ignition spec version (3.0.0 .. 3.5.0)");
  sub->add_option("--target,-t", args->target, "ignition, cloud-config or apkovl")->capture_default_str();
  sub->add_option("--output,-o", args->output, "output file (default: stdout)");
  // One value per --var, so "--var a=1 FILE" leaves FILE to the positionals.
  sub->add_option("--var", args->vars, "template variable key=value (dotted keys nest: labels.role=worker)")
      ->allow_extra_args(false);
  sub->add_option("--vars-file", args->vars_file, "YAML or JSON mapping of template variables");
  commands.emplace_back(sub, [args] { return run_compile(*args); });
}

const CommandRegistration kRegistration{40, add_compile_command};

}  // namespace

}  // namespace ramfleet::cli
