#pragma once
// The chunk manifest of a RAM-root image: the compressed image file
// (`<assets>/images/<id>/rootfs.cpio.zst`, id = its sha256) cut at fixed
// offsets into chunks, each with its own sha256, so a node can take chunks
// from peers and still know every byte is the one ramfleet built.
//
// `ramfleet image build` writes it beside the image as
// `<assets>/images/<id>/chunks.json` (served like any asset):
//   {"image":"<id>","file":"rootfs.cpio.zst","size":<bytes>,
//    "chunk_size":<bytes>,"chunks":["<sha256 hex>", ...]}
// Chunk i is bytes [i*chunk_size, min(size,(i+1)*chunk_size)); the server
// serves a chunk as an HTTP Range of the image file. Parsing is sans-IO and
// treats the document as untrusted (bounded sizes and counts).
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/sha256.hpp"

namespace ramfleet::stage1 {

inline constexpr std::uint64_t default_chunk_size = std::uint64_t{1} << 20U;
inline constexpr std::size_t max_chunks = 65536;  // 64 GiB at the default size
// Smaller chunks make the tracker's tables and a node's request count grow for
// nothing; larger ones make a chunk retried from ramfleet too costly.
inline constexpr std::uint64_t min_chunk_size = 4096;
inline constexpr std::uint64_t max_chunk_size = 64U << 20U;

struct ChunkManifest {
  std::string image_id;    // 64 hex: sha256 of the whole compressed file
  std::string file;        // "rootfs.cpio.zst"
  std::uint64_t size = 0;  // bytes of the compressed file
  std::uint64_t chunk_size = default_chunk_size;
  std::vector<Sha256Digest> chunks;

  std::uint64_t chunk_offset(std::size_t index) const { return index * chunk_size; }
  std::uint64_t chunk_length(std::size_t index) const;  // the last chunk may be short
};

// Cuts a file's bytes into the manifest (image build side).
ChunkManifest make_chunk_manifest(std::string image_id, std::string file, std::string_view bytes,
                                  std::uint64_t chunk_size = default_chunk_size);
// The same, for a file read piece by piece (an image too large to hold):
// give it the bytes in order, in pieces of any size.
class ChunkManifestBuilder {
 public:
  ChunkManifestBuilder(std::string image_id, std::string file, std::uint64_t chunk_size = default_chunk_size);
  void update(std::string_view bytes);
  ChunkManifest finish();

 private:
  ChunkManifest manifest_;
  Sha256 current_;
  std::uint64_t in_current_ = 0;
};
std::string to_json(const ChunkManifest& manifest);
// nullopt + `error` set when the text is not a consistent manifest (chunk count
// must match size/chunk_size, hex must be 64 digits, counts bounded).
std::optional<ChunkManifest> parse_chunk_manifest(std::string_view json, std::string& error);

}  // namespace ramfleet::stage1
