#pragma once
// What the inventory itself knows about config layers (docs/config.md,
// "Serving"): whether a listed path may name a file under <config>/configs/,
// which files the fingerprint covers, and the profile's config as JSON for the
// API. Planning and compiling a machine's config is the boot layer's job
// (boot/node_config.hpp).
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "inventory/model.hpp"

namespace ramfleet::inventory {

// Empty when `path` may name a layer under <config>/configs/, else why not:
// absolute, `..` or empty segments, backslash, control characters.
std::string config_layer_path_error(std::string_view path);

// Every regular file under `dir` (recursive, sorted, at most 20000), for the
// inventory fingerprint: an edited layer or local: file is a new inventory.
std::vector<std::filesystem::path> config_tree_files(const std::filesystem::path& dir);

// For GET /api/v1/profiles: {"target", "layers", "machine_layers", ...} or null.
nlohmann::json profile_config_json(const Profile& profile);

}  // namespace ramfleet::inventory
