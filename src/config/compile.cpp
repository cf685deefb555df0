#include "config/compile.hpp"

#include "config/apkovl_writer.hpp"
#include "config/cloud_config_writer.hpp"
#include "config/encoding.hpp"
#include "config/ignition_writer.hpp"
#include "config/layer_merge.hpp"
#include "core/counters.hpp"
#include "core/sha256.hpp"

namespace ramfleet::config {

std::optional<Target> parse_target(std::string_view text) {
  if (text == "ignition") return Target::ignition;
  if (text == "cloud-config" || text == "cloud_config") return Target::cloud_config;
  if (text == "apkovl") return Target::apkovl;
  return std::nullopt;
}

std::string_view target_name(Target target) {
  switch (target) {
    case Target::ignition:
      return "ignition";
    case Target::cloud_config:
      return "cloud-config";
    case Target::apkovl:
      return "apkovl";
  }
  return "ignition";
}

std::string_view content_type(Target target) {
  switch (target) {
    case Target::ignition:
      return "application/vnd.coreos.ignition+json";
    case Target::cloud_config:
      return "text/cloud-config";
    case Target::apkovl:
      return "application/gzip";
  }
  return "application/octet-stream";
}

namespace {

std::optional<IgnitionSpec> choose_spec(const NodeConfig& merged, const std::vector<LayerSource>& layers,
                                        const CompileOptions& options, DiagnosticCollector& diag) {
  if (options.ignition_version) {
    if (!supported_ignition_spec(*options.ignition_version)) {
      diag.error(Location{"--ignition-version"},
                 "unsupported Ignition spec " + options.ignition_version->str() + " (supported: 3.0.0 to 3.5.0)");
      return std::nullopt;
    }
    return options.ignition_version;
  }
  if (!merged.variant.set() || !merged.version.set()) {
    Location at{layers.empty() ? std::string("<input>") : layers.front().name, 1, 1};
    diag.error(at, "no layer gives 'variant' and 'version' (e.g. variant: fcos, version: 1.4.0)");
    return std::nullopt;
  }
  // parse_layer reports an unknown pair within one layer; across layers (one
  // states the variant, a later one another version) it is reported here.
  auto spec = ignition_spec_for(*merged.variant, *merged.version);
  if (!spec && !diag.has_errors()) {
    diag.error(merged.version.at, "unsupported version '" + *merged.version + "' for variant '" + *merged.variant +
                                      "' (supported: " + supported_butane_versions() + ")");
  }
  return spec;
}

}  // namespace

CompileResult compile_machine(const std::vector<LayerSource>& layers, const Variables& variables, Target target,
                              const CompileOptions& options) {
  CompileResult result;
  result.content_type = std::string(content_type(target));
  DiagnosticCollector diag(options.strict);
  TemplateRenderer renderer(variables);
  ParseOptions parse_options{options.files_dir};

  NodeConfig merged;
  if (layers.empty()) diag.error(Location{"<input>"}, "no config layers given");
  for (const auto& layer : layers) merge_layer(merged, parse_layer(layer, renderer, parse_options, diag), diag);

  std::optional<std::string> out;
  if (!diag.has_errors()) {
    switch (target) {
      case Target::ignition:
        if (auto spec = choose_spec(merged, layers, options, diag)) {
          result.ignition = spec;
          out = write_ignition(merged, *spec, options.pretty, diag);
        }
        break;
      case Target::cloud_config:
        out = write_cloud_config(merged, diag);
        break;
      case Target::apkovl:
        out = write_apkovl(merged, diag);
        break;
    }
  }
  // A renderer that gives no output must have said why: never "no config, no error".
  if (!diag.has_errors() && !out) diag.error(Location{"<output>"}, "no output was produced");
  std::size_t warnings = 0;
  for (const auto& d : diag.all()) warnings += d.severity == Diagnostic::Severity::warning ? 1 : 0;
  if (!diag.has_errors() && out) {
    result.etag = sha256_hex(*out);
    result.output = std::move(out);
  }
  if (options.counters != nullptr) {
    options.counters->inc(result.ok() ? "config.compile.ok" : "config.compile.error");
    if (warnings > 0) options.counters->inc("config.compile.warning", warnings);
  }
  result.diagnostics = diag.take();
  return result;
}

void set_variable(Variables& vars, std::string_view dotted_key, std::string value) {
  if (!vars.is_object()) vars = Variables::object();
  Variables* node = &vars;
  std::size_t start = 0;
  while (true) {
    auto dot = dotted_key.find('.', start);
    std::string part(dotted_key.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start));
    if (dot == std::string_view::npos) {
      (*node)[part] = std::move(value);
      return;
    }
    Variables& next = (*node)[part];
    if (!next.is_object()) next = Variables::object();
    node = &next;
    start = dot + 1;
  }
}

Variables machine_variables(const MachineVariables& machine) {
  Variables vars = machine.extra.is_object() ? machine.extra : Variables::object();
  vars["hostname"] = machine.hostname;
  vars["mac"] = machine.mac;
  vars["ip"] = machine.ip;
  Variables labels = Variables::object();
  for (const auto& [k, v] : machine.labels) labels[k] = v;
  vars["labels"] = labels;
  vars["group"] = machine.group.is_object() ? machine.group : Variables::object();
  vars["cluster"] = machine.cluster.is_object() ? machine.cluster : Variables::object();
  return vars;
}

std::string format_diagnostics(const std::vector<Diagnostic>& diagnostics) {
  std::string out;
  for (const auto& d : diagnostics) out += d.str() + "\n";
  return out;
}

}  // namespace ramfleet::config
