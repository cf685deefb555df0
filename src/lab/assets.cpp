#include "lab/assets.hpp"

#include <unistd.h>

#include <iomanip>
#include <iostream>
#include <stdexcept>

#include "image/image_builder.hpp"
#include "lab/process.hpp"
#include "lab/text.hpp"

namespace ramfleet::lab {
namespace {

constexpr const char* kWorkPrefix = "lab-work-";  // + the PID of the `lab up` that owns it

// Scratch roots of `lab up`s that died before removing theirs (SIGKILL).
void remove_stale_work_dirs(const std::filesystem::path& cache) {
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(cache, ec)) {
    auto name = e.path().filename().string();
    if (name.rfind(kWorkPrefix, 0) != 0) continue;
    auto pid = name.substr(std::string(kWorkPrefix).size());
    if (pid.empty() || pid.find_first_not_of("0123456789") != std::string::npos) continue;
    if (!std::filesystem::exists("/proc/" + pid)) std::filesystem::remove_all(e.path(), ec);
  }
}

// The static fetcher the stage-1 initrd carries: $RAMFLEET_STAGE1_BIN, else
// the ramfleet-stage1 built (or installed) beside this ramfleet.
std::filesystem::path stage1_fetcher() {
  if (const char* env = std::getenv("RAMFLEET_STAGE1_BIN"); env != nullptr && *env != '\0') return env;
  std::error_code ec;
  auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? std::filesystem::path("ramfleet-stage1") : self.parent_path() / "ramfleet-stage1";
}

}  // namespace

std::filesystem::path source_dir(const UpOptions& o) {
  if (!o.source_dir.empty()) return o.source_dir;
  if (const char* env = std::getenv("RAMFLEET_SOURCE_DIR"); env != nullptr && *env != '\0') return env;
  return RAMFLEET_SOURCE_DIR;
}

Prepared prepare_assets(const UpOptions& o, const std::filesystem::path& assets) {
  auto src = source_dir(o);
  const bool etcd = o.cluster == "etcd";
  Prepared p;
  auto t0 = Clock::now();
  auto k = run_command({(src / "scripts/build-node-kernel").string(), (o.cache_dir / "node-kernel").string()},
                       std::chrono::seconds{900});
  if (k.status != 0) throw std::runtime_error("scripts/build-node-kernel failed:\n" + k.output);
  std::filesystem::path kernel_dir = last_line(k.output);
  std::string version = last_line(read_file(kernel_dir / "version"));
  auto kdest = assets / "kernels" / version / "vmlinuz";
  std::filesystem::create_directories(kdest.parent_path());
  if (!std::filesystem::exists(kdest) ||
      std::filesystem::file_size(kdest) != std::filesystem::file_size(kernel_dir / "vmlinuz")) {
    auto tmp = kdest;
    tmp += ".tmp";
    std::filesystem::copy_file(kernel_dir / "vmlinuz", tmp, std::filesystem::copy_options::overwrite_existing);
    std::filesystem::rename(tmp, kdest);
  }
  p.kernel_asset = "kernels/" + version + "/vmlinuz";

  // The unpacked root is scratch: under the cache (on disk), not --dir, which
  // defaults to /run (a small tmpfs on most hosts; the Debian root is 260 MB).
  remove_stale_work_dirs(o.cache_dir);
  auto work = o.cache_dir / (std::string(kWorkPrefix) + std::to_string(::getpid()));
  struct RemoveOnExit {  // also when the build fails or is interrupted
    std::filesystem::path path;
    ~RemoveOnExit() {
      std::error_code ec;
      std::filesystem::remove_all(path, ec);
    }
  } cleanup{work};
  auto rootfs = work / ("rootfs-" + o.image);
  auto builder = src / "images" / o.image / "build-rootfs";
  if (!std::filesystem::exists(builder))
    throw std::runtime_error("no image '" + o.image + "' (" + builder.string() + ")");
  std::cerr << "lab: kernel " << version << " ready in " << std::fixed << std::setprecision(1) << seconds_since(t0)
            << " s; building image " << o.image << (etcd ? " with etcd" : "")
            << (o.image == "debian" ? " (the first build bootstraps Debian, 1-2 min; cached after)" : "") << "\n";
  auto t1 = Clock::now();
  // Builders take OUT KERNEL_DIR CACHE_DIR (the cache keeps what is slow to
  // make, e.g. the Debian base root); RAMFLEET_IMAGE_ETCD=1 adds etcd.
  auto b = run_command({"env", std::string("RAMFLEET_IMAGE_ETCD=") + (etcd ? "1" : "0"), builder.string(),
                        rootfs.string(), kernel_dir.string(), o.cache_dir.string()},
                       std::chrono::seconds{1200});
  if (b.status != 0) throw std::runtime_error(builder.string() + " failed:\n" + b.output);
  double rootfs_s = seconds_since(t1);
  image::BuildOptions bo;
  bo.source = rootfs;
  bo.assets_dir = assets;
  bo.fixed_mtime = 0;  // same tree, same image id on every `lab up`
  auto built = image::build_image(bo);
  p.image_asset = built.asset_path;
  p.image_id = built.id;
  p.image_bytes = built.size;
  // The Debian image runs Ignition on every boot; the small one fetches an
  // apkovl only when its config carries something (an etcd member's files).
  if (o.image == "debian") p.delivery = ConfigDelivery::ignition;
  if (o.image == "small" && etcd) p.delivery = ConfigDelivery::apkovl;
  if (auto layer = src / "images" / o.image / "lab-node.bu";
      p.delivery != ConfigDelivery::none && std::filesystem::exists(layer))
    p.config_layers.push_back({o.image + "-node.bu", read_file(layer)});
  std::cerr << "lab: image " << o.image << " " << built.id.substr(0, 12) << " (" << built.size / 1024 << " KiB, "
            << built.entries << " entries, " << (built.cpio_size >> 20) << " MiB unpacked) in " << std::fixed
            << std::setprecision(1) << seconds_since(t1) << " s (root " << rootfs_s << " s, packing "
            << seconds_since(t1) - rootfs_s << " s)\n";
  if (o.stage1 == "stream") {
    auto fetcher = stage1_fetcher();
    auto s1 =
        run_command({"env", "RAMFLEET_STAGE1_BIN=" + fetcher.string(), (src / "images/stage1/build-rootfs").string(),
                     (work / "rootfs-stage1").string(), kernel_dir.string(), o.cache_dir.string()},
                    std::chrono::seconds{300});
    if (s1.status != 0) throw std::runtime_error("images/stage1/build-rootfs failed:\n" + s1.output);
    image::BuildOptions so;
    so.source = work / "rootfs-stage1";
    so.assets_dir = assets;
    so.fixed_mtime = 0;
    auto stage1 = image::build_image(so);
    p.stage1_asset = stage1.asset_path;
    std::cerr << "lab: stage-1 initrd " << stage1.id.substr(0, 12) << " (" << stage1.size / 1024
              << " KiB) streams the image into a tmpfs\n";
  }
  return p;
}

}  // namespace ramfleet::lab
