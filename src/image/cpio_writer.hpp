#pragma once
// Writes an FsTree as a newc ("070701") cpio archive, the format the Linux
// kernel unpacks as an initramfs. Deterministic: entries in path order, inode
// numbers assigned in that order, numeric owners, device numbers zero, and
// either each entry's own mtime or one fixed mtime.
#include <cstdint>
#include <optional>

#include "image/byte_sink.hpp"
#include "image/fs_tree.hpp"

namespace ramfleet::image {

struct CpioOptions {
  std::optional<std::int64_t> fixed_mtime;  // e.g. SOURCE_DATE_EPOCH; else each entry's own
};

struct CpioStats {
  std::size_t entries = 0;
  std::uint64_t file_bytes = 0;  // sum of regular file sizes
};

// Throws ImageError if a regular file's data cannot be read in full (a source
// file changed size while the image was being built).
CpioStats write_cpio(const FsTree& tree, ByteSink& out, const CpioOptions& options);

}  // namespace ramfleet::image
