#include "image/image_builder.hpp"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <random>

#include "image/cpio_writer.hpp"
#include "image/image_chunks.hpp"
#include "image/image_error.hpp"
#include "image/sources.hpp"

namespace ramfleet::image {
namespace {

// A scratch directory removed on every exit path.
struct ScratchDir {
  std::filesystem::path path;
  explicit ScratchDir(std::filesystem::path p) : path(std::move(p)) {
    std::error_code ec;
    std::filesystem::create_directories(path, ec);
    if (ec) throw ImageError("cannot create " + path.string() + ": " + ec.message());
  }
  ~ScratchDir() {
    std::error_code ec;
    if (!path.empty()) std::filesystem::remove_all(path, ec);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
};

std::string unique_suffix() {
  static std::atomic<unsigned> counter{0};
  std::random_device rd;
  return std::to_string(::getpid()) + "-" + std::to_string(counter++) + "-" + std::to_string(rd());
}

void write_file_synced(const std::filesystem::path& path, const std::string& text) {
  FileSink f(path);
  f.write({reinterpret_cast<const std::uint8_t*>(text.data()), text.size()});
  f.finish();
}

}  // namespace

std::string image_file_name(Compression c) { return "rootfs.cpio" + std::string(compression_suffix(c)); }

BuiltImage build_image(const BuildOptions& o) {
  auto images = o.assets_dir / "images";
  std::error_code ec;
  std::filesystem::create_directories(images, ec);
  if (ec) throw ImageError("cannot create " + images.string() + ": " + ec.message());

  // Dot-names: never a valid image id, so a half-built image is never served
  // under an id.
  ScratchDir work(o.work_dir.empty() ? images / (".work-" + unique_suffix()) : o.work_dir / unique_suffix());
  ScratchDir staging(images / (".tmp-" + unique_suffix()));

  SourceInfo info;
  FsTree tree = std::filesystem::is_directory(o.source)
                    ? load_directory(o.source, info)
                    : load_oci_archive(o.source, work.path / "layers", info, o.limits);

  const auto file_name = image_file_name(o.compression);
  int level = o.level != 0 ? o.level : (o.compression == Compression::zstd ? 3 : 6);
  FileSink file(staging.path / file_name);
  HashingSink compressed(&file);
  auto compressor = make_compressor(o.compression, compressed, level);
  HashingSink cpio(compressor.get());
  auto stats = write_cpio(tree, cpio, CpioOptions{o.fixed_mtime});
  cpio.finish();

  BuiltImage out;
  out.id = compressed.hex_digest();
  out.directory = images / out.id;
  out.asset_path = "images/" + out.id + "/" + file_name;
  out.size = compressed.size();
  out.cpio_size = cpio.size();
  out.entries = stats.entries;
  // No build time in the manifest: the same input gives the same manifest.
  out.manifest = {
      {"id", out.id},
      {"file", file_name},
      {"asset_path", out.asset_path},
      {"format", "newc"},
      {"compression", std::string(compression_name(o.compression))},
      {"compression_level", level},
      {"sha256", out.id},
      {"size", out.size},
      {"cpio_sha256", cpio.hex_digest()},
      {"cpio_size", out.cpio_size},
      {"entries", stats.entries},
      {"file_bytes", stats.file_bytes},
      {"mtime", o.fixed_mtime ? nlohmann::json(*o.fixed_mtime) : nlohmann::json("source")},
      {"source", {{"kind", info.kind}, {"path", info.path}, {"layers", info.layers}, {"whiteouts", info.whiteouts}}},
  };
  write_file_synced(staging.path / "manifest.json", out.manifest.dump(2) + "\n");

  if (std::filesystem::exists(out.directory / file_name) && std::filesystem::exists(out.directory / "manifest.json")) {
    out.reused = true;  // same bytes already published; keep the first copy
    // An image built before chunk manifests existed (or at another chunk
    // size) gets its chunks.json now, published on its own.
    out.chunks_written = ensure_chunk_manifest(out.directory, out.id, file_name, o.chunk_size);
    return out;
  }
  // A new image appears with its chunks.json in the same rename.
  out.chunks_written = ensure_chunk_manifest(staging.path, out.id, file_name, o.chunk_size);
  std::filesystem::rename(staging.path, out.directory, ec);
  if (ec) {
    // Another build of the same content won the race: theirs is identical.
    if (std::filesystem::exists(out.directory / "manifest.json")) {
      out.reused = true;
      out.chunks_written = ensure_chunk_manifest(out.directory, out.id, file_name, o.chunk_size);
      return out;
    }
    throw ImageError("cannot publish " + out.directory.string() + ": " + ec.message());
  }
  staging.path.clear();
  return out;
}

}  // namespace ramfleet::image
