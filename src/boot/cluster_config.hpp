#pragma once
// <config>/cluster.yaml as the server sees it (docs/cluster.md), reloaded with
// each inventory generation (cluster.yaml is in its fingerprint). An edit with
// errors is refused with the generation (http/service_upkeep.cpp): the previous
// file keeps serving. Broken at start: no machine gets cluster files.
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>

namespace ramfleet::kube {
struct ClusterSpec;
}

namespace ramfleet::boot {

class ClusterConfig {
 public:
  // Returns true when it (re)loaded the file for this generation.
  bool refresh(const std::filesystem::path& config_dir, std::uint64_t generation);

  // False without cluster.yaml: the fleet boots without forming a cluster.
  [[nodiscard]] bool configured() const { return configured_; }
  // Set when cluster.yaml loaded without errors.
  [[nodiscard]] const std::shared_ptr<const kube::ClusterSpec>& spec() const { return spec_; }
  // When configured but not loadable: every diagnostic, one per line (file:line:col: error: ...).
  [[nodiscard]] const std::string& error() const { return error_; }

 private:
  std::optional<std::uint64_t> generation_;
  bool configured_ = false;
  std::shared_ptr<const kube::ClusterSpec> spec_;
  std::string error_;
};

}  // namespace ramfleet::boot
