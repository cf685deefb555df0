#include "inventory/config_layers.hpp"

#include <algorithm>

namespace ramfleet::inventory {
namespace fs = std::filesystem;

std::string config_layer_path_error(std::string_view path) {
  if (path.empty()) return "config layer path is empty";
  if (path.front() == '/') return "config layer path '" + std::string(path) + "' must be relative to <config>/configs/";
  for (char c : path) {
    if (c == '\\' || static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      return "config layer path '" + std::string(path) + "' has a backslash or control character";
    }
  }
  std::size_t start = 0;
  while (start <= path.size()) {
    auto end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    const auto seg = path.substr(start, end - start);
    if (seg.empty() || seg == "." || seg == "..") {
      return "config layer path '" + std::string(path) + "' may not contain empty, '.' or '..' segments";
    }
    start = end + 1;
  }
  return {};
}

std::vector<fs::path> config_tree_files(const fs::path& dir) {
  constexpr std::size_t kMaxFiles = 20000;
  std::vector<fs::path> out;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return out;
  fs::recursive_directory_iterator it(dir, fs::directory_options::skip_permission_denied, ec);
  for (; !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (it->is_regular_file(ec)) out.push_back(it->path());
    if (out.size() >= kMaxFiles) break;
  }
  std::sort(out.begin(), out.end());
  return out;
}

nlohmann::json profile_config_json(const Profile& profile) {
  if (!profile.config) return nullptr;
  const auto& c = *profile.config;
  auto refs = [](const std::vector<ConfigLayerRef>& v) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& r : v) out.push_back({{"path", r.path}, {"optional", r.optional}, {"source", r.mark.str()}});
    return out;
  };
  nlohmann::json j = {{"target", c.target},
                      {"layers", refs(c.layers)},
                      {"machine_layers", refs(c.machine_layers)},
                      {"strict", c.strict}};
  if (!c.ignition_version.empty()) j["ignition_version"] = c.ignition_version;
  return j;
}

}  // namespace ramfleet::inventory
