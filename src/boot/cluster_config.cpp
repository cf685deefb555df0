#include "boot/cluster_config.hpp"

#include "core/log.hpp"
#include "kube/cluster_spec.hpp"

namespace ramfleet::boot {

namespace fs = std::filesystem;

bool ClusterConfig::refresh(const fs::path& config_dir, std::uint64_t generation) {
  if (generation_ == generation) return false;
  generation_ = generation;
  configured_ = false;
  spec_.reset();
  error_.clear();
  if (config_dir.empty()) return true;
  const fs::path file = config_dir / kube::kClusterSpecFile;
  std::error_code ec;
  if (!fs::exists(file, ec)) return true;
  configured_ = true;
  auto loaded = kube::load_cluster_spec(file);
  if (loaded.spec) {
    spec_ = std::make_shared<const kube::ClusterSpec>(std::move(*loaded.spec));
    log::info(
        "cluster.loaded",
        {{"cluster", spec_->name}, {"distribution", kube::to_string(spec_->distribution)}, {"generation", generation}});
    return true;
  }
  for (const auto& d : loaded.diagnostics) {
    if (!d.is_error()) continue;
    if (!error_.empty()) error_ += "\n";
    error_ += d.str();
    log::error("cluster.refused", {{"diagnostic", d.str()}});
  }
  if (error_.empty()) error_ = file.string() + ": cannot be loaded";
  return true;
}

}  // namespace ramfleet::boot
