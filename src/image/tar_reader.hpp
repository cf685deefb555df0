#pragma once
// Reads POSIX tar archives as layers and image archives use them: ustar with
// prefix, GNU long names ('L'/'K') and base-256 numbers, and pax extended
// headers (path, linkpath, size, uid, gid, mtime). The header parser is pure
// (512 bytes in, fields out); read_tar walks a region of a ByteSource without
// loading member data, handing out each member's offset instead.
//
// Archives are untrusted: every number a header claims is range-checked, all
// offset arithmetic is checked against the region's end (a size near 2^64
// must not wrap around and send the reader backwards), and the member count,
// name lengths and extended header sizes are capped by ImageLimits.
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <span>
#include <string>

#include "image/byte_source.hpp"
#include "image/image_limits.hpp"

namespace ramfleet::image {

struct TarMember {
  std::string path;     // as stored (not normalised)
  char typeflag = '0';  // '0' file, '1' hard link, '2' symlink, '3' char, '4' block, '5' dir, '6' fifo
  std::uint32_t mode = 0;
  std::uint32_t uid = 0, gid = 0;
  std::int64_t mtime = 0;
  std::uint64_t size = 0;
  std::uint64_t data_offset = 0;  // absolute offset of the data in the source
  std::string linkname;
  std::uint32_t devmajor = 0, devminor = 0;
};

enum class HeaderResult { member, zero_block, bad };

// Parses one 512-byte header block into `m` (data_offset is left alone).
HeaderResult parse_tar_header(std::span<const std::uint8_t, 512> block, TarMember& m, std::string& error);

// Applies pax extended header records ("len key=value\n"...) to `m`.
bool apply_pax_records(std::string_view records, TarMember& m, std::string& error);

using TarVisitor = std::function<void(const TarMember&)>;

// Calls `fn` for every member of the tar held in source[offset, offset+length).
// Throws ImageError (naming `what`, the byte offset and the entry) on a
// malformed or truncated archive or one that exceeds `limits`.
void read_tar(ByteSource& source, std::uint64_t offset, std::uint64_t length, const std::string& what,
              const ImageLimits& limits, const TarVisitor& fn);

// The same on file[offset, offset+length).
void read_tar(const std::filesystem::path& file, std::uint64_t offset, std::uint64_t length, const std::string& what,
              const TarVisitor& fn, const ImageLimits& limits = {});

}  // namespace ramfleet::image
