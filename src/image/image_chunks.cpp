#include "image/image_chunks.hpp"

#include <unistd.h>

#include <fstream>
#include <random>
#include <sstream>
#include <vector>

#include "image/byte_sink.hpp"
#include "image/image_error.hpp"
#include "stage1/chunk_manifest.hpp"

namespace ramfleet::image {
namespace {

bool current(const std::filesystem::path& path, const std::string& image_id, const std::string& file,
             std::uint64_t chunk_size) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::stringstream text;
  text << in.rdbuf();
  std::string error;
  const auto m = stage1::parse_chunk_manifest(text.str(), error);
  return m && m->image_id == image_id && m->file == file && m->chunk_size == chunk_size;
}

}  // namespace

bool ensure_chunk_manifest(const std::filesystem::path& dir, const std::string& image_id, const std::string& file,
                           std::uint64_t chunk_size) {
  const auto target = dir / kChunkManifestName;
  if (current(target, image_id, file, chunk_size)) return false;

  std::ifstream in(dir / file, std::ios::binary);
  if (!in) throw ImageError("cannot read " + (dir / file).string() + " to cut it into chunks");
  stage1::ChunkManifestBuilder builder(image_id, file, chunk_size);
  std::vector<char> buf(1U << 20U);
  while (in) {
    in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    const auto got = in.gcount();
    if (got > 0) builder.update({buf.data(), static_cast<std::size_t>(got)});
  }
  if (in.bad()) throw ImageError("read error in " + (dir / file).string());
  const auto text = stage1::to_json(builder.finish());

  // A dot-name in the same directory: never served as the manifest, and the
  // rename stays on one file system.
  const auto tmp =
      dir / (".chunks.json.tmp-" + std::to_string(::getpid()) + "-" + std::to_string(std::random_device{}()));
  try {
    FileSink out(tmp);
    out.write({reinterpret_cast<const std::uint8_t*>(text.data()), text.size()});
    out.finish();
  } catch (...) {
    std::error_code ec;
    std::filesystem::remove(tmp, ec);
    throw;
  }
  std::error_code ec;
  std::filesystem::rename(tmp, target, ec);
  if (ec) {
    std::filesystem::remove(tmp, ec);
    throw ImageError("cannot publish " + target.string() + ": " + ec.message());
  }
  return true;
}

}  // namespace ramfleet::image
