#pragma once
// Public entry point of the node configuration compiler.
//
//   layers (cluster -> role -> group -> machine, Butane YAML)
//     + variables (the machine's metadata, for {{templates}})
//     -> Ignition JSON | #cloud-config | Alpine apkovl (.tar.gz)
//
// Pure: no I/O except reading `local:` files under options.files_dir. The
// output is deterministic, so a server can compile once per (machine,
// target, inventory version), cache the bytes and use `etag` as ETag.
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/butane_parser.hpp"
#include "config/spec_version.hpp"
#include "config/template_renderer.hpp"
#include "core/diagnostic.hpp"

namespace ramfleet {
class Counters;
}

namespace ramfleet::config {

enum class Target { ignition, cloud_config, apkovl };

std::optional<Target> parse_target(std::string_view text);  // "ignition", "cloud-config", "apkovl"
std::string_view target_name(Target target);
// HTTP Content-Type for the compiled bytes.
std::string_view content_type(Target target);

struct CompileOptions {
  std::optional<std::filesystem::path> files_dir;  // root for `local:`, `contents_local:`, `trees:`
  bool strict = false;                             // warnings are errors
  bool pretty = false;                             // indented Ignition JSON
  std::optional<IgnitionSpec> ignition_version;    // force the output spec (else from variant/version)
  Counters* counters = nullptr;                    // optional: "config.compile.ok" / ".error" / ".warning"
};

struct CompileResult {
  std::optional<std::string> output;  // set only when there is no error: never a partial config
  std::string content_type;
  std::string etag;                      // sha256 of output, hex
  std::optional<IgnitionSpec> ignition;  // the spec emitted (Ignition target)
  std::vector<Diagnostic> diagnostics;   // errors and warnings, each with file:line:column
  [[nodiscard]] bool ok() const { return output.has_value(); }
};

// Parses every layer (templates rendered with `variables`), merges them in
// order (later overrides), validates, and renders `target`.
CompileResult compile_machine(const std::vector<LayerSource>& layers, const Variables& variables, Target target,
                              const CompileOptions& options = {});

// The template variables of one machine, as the boot layer gathers them from
// the inventory (the machine's own facts are inventory::MachineFacts):
//   {{hostname}} {{mac}} {{ip}} {{labels.<k>}} {{group.<k>}} {{cluster.<k>}}
// plus anything in `extra` at the top level (it must not shadow those names).
struct MachineVariables {
  std::string hostname;
  std::string mac;  // "52:54:00:12:34:56"
  std::string ip;
  std::map<std::string, std::string> labels;
  nlohmann::json group = nlohmann::json::object();    // group metadata
  nlohmann::json cluster = nlohmann::json::object();  // cluster-wide values
  nlohmann::json extra = nlohmann::json::object();
};
Variables machine_variables(const MachineVariables& machine);

// Sets a dotted key ("labels.role") in a Variables object, creating objects on the way.
void set_variable(Variables& vars, std::string_view dotted_key, std::string value);

// One line per diagnostic, "file:line:col: error: message".
std::string format_diagnostics(const std::vector<Diagnostic>& diagnostics);

}  // namespace ramfleet::config
