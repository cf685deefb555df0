#pragma once
// A minimal, deterministic POSIX ustar writer: fixed mtime, numeric ids plus
// names, entries in the order given. Enough for Alpine apkovl overlays.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace ramfleet::config {

struct TarEntry {
  enum class Type { file, directory, symlink, hardlink };
  Type type = Type::file;
  std::string path;  // relative, no leading '/', no trailing '/'
  int mode = 0644;
  int uid = 0;
  int gid = 0;
  std::string uname = "root";
  std::string gname = "root";
  std::string data;      // file contents
  std::string linkname;  // symlink target / hard link source (relative path)
};

// Returns nullopt and sets `error` when a name does not fit ustar's fields.
std::optional<std::string> write_tar(const std::vector<TarEntry>& entries, std::string& error);

}  // namespace ramfleet::config
