#pragma once
// <config>/cluster.yaml as the server sees it (docs/cluster.md), loaded again
// whenever the inventory generation changes: cluster.yaml is part of the
// inventory's fingerprint, so an edit is a new generation. A broken edit is
// reported and no machine gets cluster files until it is fixed.
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
