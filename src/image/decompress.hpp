#pragma once
// Unpacks a layer blob (gzip, zstd or plain tar, told apart by magic bytes)
// from a region of a file into a file of its own. A compressed layer is
// untrusted: a few KiB of gzip can claim gigabytes, so the decoded size is
// capped and the cap's flag named when it is hit.
#include <cstdint>
#include <filesystem>
#include <functional>
#include <span>
#include <string>
#include <string_view>

#include "image/byte_source.hpp"

namespace ramfleet::image {

enum class BlobEncoding { plain, gzip, zstd, xz };

BlobEncoding sniff_encoding(std::string_view first_bytes);

// At most `bytes` decoded bytes; `name` says which setting set it, for the
// error ("the per-layer limit (--max-layer-size)").
struct DecodeLimit {
  std::uint64_t bytes = UINT64_MAX;
  std::string name = "the limit";
};

// Decodes source[offset, offset+size) (encoding sniffed) and hands the bytes
// to `out` in chunks. Returns the decoded size. Throws ImageError naming
// `what` on corrupt or truncated data, an encoding it cannot read (xz), or
// more than `limit.bytes` decoded bytes (thrown before they reach `out`).
using ChunkWriter = std::function<void(std::span<const std::uint8_t>)>;
std::uint64_t decode_stream(ByteSource& source, std::uint64_t offset, std::uint64_t size, const std::string& what,
                            const DecodeLimit& limit, const ChunkWriter& out);

// Writes the decoded bytes of `src`[offset, offset+size) to `dest`.
std::uint64_t decode_region(const std::filesystem::path& src, std::uint64_t offset, std::uint64_t size,
                            const std::filesystem::path& dest, const std::string& what = {},
                            const DecodeLimit& limit = {});

}  // namespace ramfleet::image
