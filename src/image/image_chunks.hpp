#pragma once
// chunks.json beside a built image (stage1/chunk_manifest.hpp): what lets a
// node take the image's chunks from peers and still check every byte.
#include <cstdint>
#include <filesystem>
#include <string>

namespace ramfleet::image {

inline constexpr const char* kChunkManifestName = "chunks.json";

// Makes sure `dir`/chunks.json describes `dir`/`file` (id = its sha256) at
// `chunk_size`: kept when it already does, else computed by reading the file
// piece by piece and published in one rename (a reader sees the old manifest,
// or the new one, never half of one). Returns true when it was (re)written.
// Throws ImageError when the file cannot be read or the manifest written.
bool ensure_chunk_manifest(const std::filesystem::path& dir, const std::string& image_id, const std::string& file,
                           std::uint64_t chunk_size);

}  // namespace ramfleet::image
