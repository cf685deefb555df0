#pragma once
// Confines asset requests to the assets directory. Two steps: the decoded path
// segments are checked as text (no "..", ".", empty segments that would make an
// absolute path, NUL, backslash or an encoded '/'), then the file's real path
// (symlinks resolved) must still lie under the directory's real path.
#include <filesystem>
#include <string>
#include <variant>
#include <vector>

namespace ramfleet::http {

struct AssetRefusal {
  enum class Kind { traversal, not_found };
  Kind kind;
  std::string reason;
};

// Text check on decoded segments (after the "/assets/" prefix); empty when fine.
std::string check_asset_segments(const std::vector<std::string>& segments);

// Full resolution against the canonical assets root (std::filesystem::canonical
// of the configured directory). Returns the real path of a regular file.
std::variant<std::filesystem::path, AssetRefusal> resolve_asset(const std::filesystem::path& canonical_root,
                                                                const std::vector<std::string>& segments);

}  // namespace ramfleet::http
