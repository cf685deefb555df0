#pragma once
// A machine's OS config (docs/config.md, "Serving"): which layers it gets and
// with which template variables, compiled by config::compile_machine and
// cached so a request never recompiles.
//
//   layers = profile config.layers (cluster, role)
//          + the matched group's config.layers
//          + profile config.machine_layers (usually templated: machines/{{machine_id}}.bu)
//   paths relative to <config>/configs/; variables from the machine's facts,
//   its group's metadata and inventory.yaml's `cluster:` values.
#include <cstdint>
#include <deque>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "config/compile.hpp"
#include "inventory/facts.hpp"
#include "inventory/model.hpp"

namespace ramfleet::boot {
using inventory::Group;
using inventory::Inventory;
using inventory::MachineFacts;
using inventory::Profile;

// The URL a machine fetches its config from, with its own facts as path
// segments (<base>/ignition/mac=52:54:00:00:00:01/hostname=n1/rack=r1).
// Path segments, not a query, so the URL survives the iPXE escaping of
// template variables ('?' and '&' are not in its safe set) and needs no
// quoting on a kernel command line. Values are percent-encoded. A boot token
// (boot_tokens.hpp) is the last segment, token=<token>, when given.
std::string node_config_url(const std::string& base_url, std::string_view target, const MachineFacts& facts,
                            std::string_view boot_token = {});

// The path segment / query key that carries a boot token in a config URL.
inline constexpr std::string_view kBootTokenKey = "token";

// A request target fit for logs: the first 200 bytes, any boot token value
// replaced by "-" (a token is spent on first use, but a log line must never be
// the place a racing reader finds an unspent one).
std::string redact_boot_token(std::string_view target);

// What the request adds to the facts: the server URL the machine used and its address.
struct ConfigRequestContext {
  std::string base_url;  // {{server}}
  std::string ip;        // {{ip}}: the `ip` label if the machine sent one, else its peer address
};

struct NodeConfigPlan {
  config::Target target = config::Target::ignition;
  std::vector<std::string> layer_files;  // <config>/configs/<path>, also the names in diagnostics
  std::vector<std::string> layer_marks;  // where each layer was listed (profile/group file:line:col)
  config::Variables variables;
  config::CompileOptions options;
  std::string cache_key;  // target, layers, variables and options: equal keys compile to equal bytes
  // Layers made in memory (the cluster's node files, cluster_node.hpp),
  // compiled after the files' layers. Add them with add_generated_layer.
  std::vector<config::LayerSource> generated_layers;
};

// Appends a layer made in memory; the cache key gets the SHA-256 of its text
// (not the text: it may hold secrets, and keys are long enough already).
void add_generated_layer(NodeConfigPlan& plan, std::string name, std::string text);

struct PlanResult {
  std::optional<NodeConfigPlan> plan;
  int status = 200;         // 404: no config for this target; 500: a layer path is bad
  std::string error;        // when !plan
  Diagnostics diagnostics;  // when a templated layer path cannot be rendered
};

// `group` may be null (the default profile).
PlanResult plan_node_config(const Inventory& inv, const Group* group, const Profile& profile, const MachineFacts& facts,
                            config::Target requested, const ConfigRequestContext& ctx);

// Reads the layer files and compiles. A missing layer is an error naming
// where it was listed. Never a partial output (see config::CompileResult).
config::CompileResult compile_node_config(const NodeConfigPlan& plan);

// Compiled configs of one inventory version, by plan.cache_key. Failures are
// cached too: a broken config is not recompiled on every retry of a node.
// Bounded (entries and bytes, oldest dropped first) because the key includes
// what a client sends (labels, hostname).
class NodeConfigCache {
 public:
  explicit NodeConfigCache(std::size_t max_entries = 4096, std::size_t max_bytes = 256U << 20U)
      : max_entries_(max_entries), max_bytes_(max_bytes) {}

  struct Lookup {
    std::shared_ptr<const config::CompileResult> result;
    bool hit = false;
  };
  Lookup get_or_compile(const NodeConfigPlan& plan);

  // Drops everything when `generation` differs from the one the entries were compiled for.
  void set_generation(std::uint64_t generation);
  void clear();
  [[nodiscard]] std::size_t size() const { return entries_.size(); }
  [[nodiscard]] std::size_t bytes() const { return bytes_; }

 private:
  std::size_t max_entries_;
  std::size_t max_bytes_;
  std::size_t bytes_ = 0;
  std::uint64_t generation_ = 0;
  std::unordered_map<std::string, std::shared_ptr<const config::CompileResult>> entries_;
  std::deque<std::string> order_;  // insertion order, for eviction
};

}  // namespace ramfleet::boot
