// `ramfleet image build`: a root file system directory or an OCI image archive
// -> a content-addressed RAM-root image under the assets directory.
#include <iostream>
#include <memory>
#include <optional>

#include "cli/commands.hpp"
#include "core/log.hpp"
#include "image/image_builder.hpp"
#include "image/image_error.hpp"

namespace ramfleet::cli {
namespace {

struct ImageBuildFlags {
  std::string from;
  std::string assets;
  std::string compression = "zstd";
  int level = 0;
  std::int64_t mtime = -1;
  std::uint64_t chunk_size = std::uint64_t{1} << 20U;
  bool json = false;
  image::ImageLimits limits;
};

int run_image_build(const ImageBuildFlags& f) {
  image::BuildOptions o;
  o.source = f.from;
  o.assets_dir = f.assets;
  o.compression = f.compression == "gzip" ? image::Compression::gzip : image::Compression::zstd;
  o.level = f.level;
  if (f.mtime >= 0) o.fixed_mtime = f.mtime;
  o.limits = f.limits;
  o.chunk_size = f.chunk_size;
  try {
    auto built = image::build_image(o);
    log::info("image.built", {{"id", built.id},
                              {"path", built.asset_path},
                              {"bytes", built.size},
                              {"cpio_bytes", built.cpio_size},
                              {"entries", built.entries},
                              {"reused", built.reused ? "yes" : "no"},
                              {"chunks_written", built.chunks_written ? "yes" : "no"}});
    if (f.json) {
      std::cout << built.manifest.dump(2) << "\n";
    } else {
      // Line 1: the id; line 2: the asset path a profile's initrds: takes
      // (served at <server>/assets/<path>).
      std::cout << built.id << "\n" << built.asset_path << "\n";
    }
    return 0;
  } catch (const image::ImageError& e) {
    std::cerr << "ramfleet image build: " << e.what() << "\n";
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "ramfleet image build: " << e.what() << "\n";
    return 1;
  }
}

void add_image_command(CLI::App& app, CommandTable& commands) {
  auto* image = app.add_subcommand("image", "RAM-root node images");
  image->require_subcommand(1);
  auto* build = image->add_subcommand(
      "build", "Pack a root directory or OCI image archive into a deterministic compressed cpio under ASSETS/images/");
  auto f = std::make_shared<ImageBuildFlags>();
  build->add_option("--from", f->from, "root file system directory, or OCI layout / docker save tar archive")
      ->required()
      ->check(CLI::ExistingPath);
  build->add_option("--assets", f->assets, "assets directory (<config>/assets)")->required();
  build->add_option("--compression", f->compression, "zstd (default) or gzip")->check(CLI::IsMember({"zstd", "gzip"}));
  build->add_option("--level", f->level, "compression level (default: zstd 3, gzip 6)")->check(CLI::Range(1, 19));
  build
      ->add_option("--mtime", f->mtime,
                   "use this mtime (seconds since the epoch) for every entry, e.g. "
                   "$SOURCE_DATE_EPOCH; default: each file's own")
      ->check(CLI::NonNegativeNumber);
  build
      ->add_option("--chunk-size", f->chunk_size,
                   "bytes per chunk of chunks.json, the manifest nodes use to share the image peer to peer "
                   "(K/M suffixes: 1024-based; 4K to 64M)")
      ->transform(CLI::AsSizeValue(false))
      ->check(CLI::Range(std::uint64_t{4096}, std::uint64_t{64} << 20U))
      ->capture_default_str();
  build->add_flag("--json", f->json, "print the manifest as JSON instead of id and path");
  // Caps on what an OCI/docker archive may cost (image/image_limits.hpp):
  // hitting one is a build error naming the archive, the entry and the flag.
  auto size_flag = [&](const char* name, std::uint64_t& into, const char* what) {
    build->add_option(name, into, std::string(what) + " (bytes; K/M/G suffixes: 1024-based)")
        ->transform(CLI::AsSizeValue(false))
        ->capture_default_str();
  };
  auto count_flag = [&](const char* name, std::uint64_t& into, const char* what) {
    build->add_option(name, into, what)->check(CLI::PositiveNumber)->capture_default_str();
  };
  size_flag("--max-layer-size", f->limits.max_layer_bytes, "most decompressed bytes of one layer");
  size_flag("--max-image-size", f->limits.max_total_bytes, "most decompressed bytes of all layers together");
  count_flag("--max-entries", f->limits.max_entries, "most entries in one tar (archive or layer) and in the image");
  count_flag("--max-name-length", f->limits.max_name_bytes, "most bytes of a path or link target");
  size_flag("--max-pax-size", f->limits.max_pax_bytes, "most bytes of one pax header or GNU long name");
  size_flag("--max-json-size", f->limits.max_json_bytes, "most bytes of an index/manifest JSON document");
  count_flag("--max-layers", f->limits.max_layers, "most layers in an image");
  commands.emplace_back(build, [f] { return run_image_build(*f); });
}

const CommandRegistration kRegistration{40, add_image_command};
}  // namespace

}  // namespace ramfleet::cli
