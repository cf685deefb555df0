#pragma once
// The image's file system as an ordered map of entries. Paths are relative,
// normalised ("usr/bin/sh": no leading '/', no "." or ".." segments), and
// std::map order puts every directory before its contents, which is the order
// a cpio archive needs. File contents are not held in memory: each regular
// file names where its bytes are (a file, at an offset).
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace ramfleet::image {

enum class EntryType { directory, regular, symlink, char_device, block_device, fifo };

// Where a regular file's bytes live: `size` bytes of `file` starting at `offset`
// (a source file, or a member of an unpacked layer tar).
struct DataSource {
  std::filesystem::path file;
  std::uint64_t offset = 0;
  std::uint64_t size = 0;
};

struct FsEntry {
  EntryType type = EntryType::regular;
  std::uint32_t permissions = 0644;  // the 12 low mode bits (with setuid/setgid/sticky)
  std::uint32_t uid = 0;
  std::uint32_t gid = 0;
  std::int64_t mtime = 0;
  std::string link_target;  // symlinks
  std::uint32_t rdev_major = 0, rdev_minor = 0;
  DataSource data;  // regular files
};

// Normalises an archive or walk path to the tree's form; nullopt for a path
// that escapes the root ("..") or names the root itself.
std::optional<std::string> normalize_path(std::string_view path);

class FsTree {
 public:
  // Adds or replaces `path`. Missing parent directories are created (0755,
  // root-owned, mtime 0). Replacing a directory with a non-directory drops the
  // directory's contents, as unpacking a layer over it would.
  void put(const std::string& path, FsEntry entry);
  // Removes `path` and everything under it (an OCI whiteout).
  void remove(const std::string& path);
  // Removes everything under `path` but keeps `path` (an opaque whiteout).
  void clear_children(const std::string& path);

  [[nodiscard]] const FsEntry* find(const std::string& path) const;
  [[nodiscard]] const std::map<std::string, FsEntry>& entries() const { return entries_; }

 private:
  std::map<std::string, FsEntry> entries_;
};

}  // namespace ramfleet::image
