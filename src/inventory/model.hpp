#pragma once
// The inventory: profiles (what to boot), groups (which machines boot it) and
// the default for machines no group selects. Immutable once loaded: a reload
// builds a new Inventory and swaps a shared_ptr, so requests in flight keep the
// one they started with.
#include <cstddef>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "inventory/selector.hpp"

namespace ramfleet::inventory {

struct SourceMark {
  std::string file;  // as given to the loader (config dir joined with a relative path)
  std::size_t line = 0;
  std::size_t column = 0;
  [[nodiscard]] std::string str() const {
    return line ? file + ":" + std::to_string(line) + ":" + std::to_string(column) : file;
  }
};

// One OS config layer (Butane YAML) a machine gets; docs/config.md.
struct ConfigLayerRef {
  std::string path;       // relative to <config>/configs/; a mustache template ({{machine_id}} ...)
  bool optional = false;  // skipped when the rendered path names no file
  SourceMark mark;
};

// What /ignition, /cloud-config or /apkovl serves a machine of this profile:
// layers = profile `layers` (cluster, role), then the group's, then `machine_layers`.
struct ProfileConfig {
  std::string target;  // "ignition", "cloud-config" or "apkovl" (checked by the loader)
  std::vector<ConfigLayerRef> layers;
  std::vector<ConfigLayerRef> machine_layers;
  bool strict = false;           // warnings are errors
  std::string ignition_version;  // "3.3.0"; empty: from the layers' variant/version
  SourceMark mark;
};

struct Profile {
  std::string id;
  std::string kernel;                   // asset name or http(s) URL; mustache template
  std::vector<std::string> initrds;     // same
  std::vector<std::string> args;        // kernel arguments; mustache templates
  std::optional<ProfileConfig> config;  // OS config served to the node
  SourceMark mark;
};

struct Group {
  std::string id;
  std::string profile;
  Selector selector;
  std::map<std::string, std::string> metadata;  // template variables {{metadata.key}}
  std::vector<ConfigLayerRef> config_layers;    // group layers, between the profile's and the machine's
  SourceMark mark;
};

struct DefaultAction {
  enum class Kind { exit, profile };
  Kind kind = Kind::exit;
  std::string profile;  // when kind == profile
  SourceMark mark;
};

struct Inventory {
  std::map<std::string, Profile, std::less<>> profiles;
  std::vector<Group> groups;  // most specific first, then by id (stable listing order)
  DefaultAction unmatched;
  std::filesystem::path config_dir;            // what the loader read; config layers live in <config_dir>/configs
  std::map<std::string, std::string> cluster;  // inventory.yaml `cluster:`: config templates' {{cluster.key}}

  [[nodiscard]] const Profile* profile(std::string_view id) const {
    auto it = profiles.find(id);
    return it == profiles.end() ? nullptr : &it->second;
  }
};

using InventoryPtr = std::shared_ptr<const Inventory>;

}  // namespace ramfleet::inventory
