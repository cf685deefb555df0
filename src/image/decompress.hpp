#pragma once
// Unpacks a layer blob (gzip, zstd or plain tar, told apart by magic bytes)
// from a region of a file into a file of its own.
#include <cstdint>
#include <filesystem>
#include <string_view>

namespace ramfleet::image {

enum class BlobEncoding { plain, gzip, zstd, xz };

BlobEncoding sniff_encoding(std::string_view first_bytes);

// Writes the decoded bytes of `src`[offset, offset+size) to `dest`. Throws
// ImageError on corrupt data or an encoding it cannot read (xz).
void decode_region(const std::filesystem::path& src, std::uint64_t offset, std::uint64_t size,
                   const std::filesystem::path& dest);

}  // namespace ramfleet::image
