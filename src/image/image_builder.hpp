#pragma once
// `ramfleet image build`: source (directory or OCI archive) -> compressed newc
// cpio + manifest.json, stored content-addressed as
//   <assets>/images/<sha256 of the compressed file>/rootfs.cpio.{zst,gz}
// with chunks.json beside it (image_chunks.hpp: per-chunk sha256 for p2p)
// so an image's URL changes whenever its bytes do. The directory appears in
// one rename: a reader sees a complete image or none.
#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "image/byte_sink.hpp"
#include "image/image_limits.hpp"

namespace ramfleet::image {

struct BuildOptions {
  std::filesystem::path source;      // directory, or OCI layout / docker save tar
  std::filesystem::path assets_dir;  // <config>/assets
  Compression compression = Compression::zstd;
  int level = 0;                            // 0: zstd 3, gzip 6
  std::optional<std::int64_t> fixed_mtime;  // else each entry's own mtime
  std::filesystem::path work_dir;           // scratch for OCI layers; default: under assets/images
  ImageLimits limits;                       // caps on what an OCI/docker archive may cost
  // chunks.json beside the image (image_chunks.hpp): its chunk size.
  std::uint64_t chunk_size = std::uint64_t{1} << 20U;
};

struct BuiltImage {
  std::string id;                   // sha256 (hex) of the compressed file
  std::filesystem::path directory;  // <assets>/images/<id>
  std::string asset_path;           // "images/<id>/rootfs.cpio.zst": a profile's initrd, served at /assets/<asset_path>
  std::uint64_t size = 0;           // compressed bytes
  std::uint64_t cpio_size = 0;
  std::size_t entries = 0;
  bool reused = false;          // an identical image was already stored
  bool chunks_written = false;  // chunks.json was (re)written by this build
  nlohmann::json manifest;
};

// Throws ImageError with a message naming the file and the problem.
BuiltImage build_image(const BuildOptions& options);

std::string image_file_name(Compression c);  // "rootfs.cpio.zst"

}  // namespace ramfleet::image
