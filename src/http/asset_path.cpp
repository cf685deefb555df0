#include "http/asset_path.hpp"

namespace ramfleet::http {
namespace fs = std::filesystem;

std::string check_asset_segments(const std::vector<std::string>& segments) {
  if (segments.empty()) return "no file named";
  for (const auto& s : segments) {
    if (s.empty()) return "empty path segment (absolute path or '//')";
    if (s == "." || s == "..") return "dot segment '" + s + "'";
    if (s.find('/') != std::string::npos) return "encoded '/' in a segment";
    if (s.find('\\') != std::string::npos) return "backslash in path";
    if (s.find('\0') != std::string::npos) return "NUL in path";
  }
  return {};
}

std::variant<fs::path, AssetRefusal> resolve_asset(const fs::path& canonical_root,
                                                   const std::vector<std::string>& segments) {
  if (auto why = check_asset_segments(segments); !why.empty()) return AssetRefusal{AssetRefusal::Kind::traversal, why};
  fs::path p = canonical_root;
  for (const auto& s : segments) p /= s;
  std::error_code ec;
  auto real = fs::canonical(p, ec);
  if (ec) return AssetRefusal{AssetRefusal::Kind::not_found, "no such file"};
  // Compare whole path components: /srv/assets-old must not pass for /srv/assets.
  auto r = canonical_root.begin();
  auto f = real.begin();
  for (; r != canonical_root.end(); ++r, ++f) {
    if (f == real.end() || *r != *f)
      return AssetRefusal{AssetRefusal::Kind::traversal, "symlink leads outside the assets directory"};
  }
  if (!fs::is_regular_file(real, ec)) return AssetRefusal{AssetRefusal::Kind::not_found, "not a regular file"};
  return real;
}

}  // namespace ramfleet::http
