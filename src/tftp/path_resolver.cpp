#include "tftp/path_resolver.hpp"

#include <algorithm>
#include <system_error>

namespace ramfleet::tftp {

namespace fs = std::filesystem;

PathResolver::PathResolver(const std::vector<fs::path>& roots) {
  for (const auto& root : roots) {
    std::error_code ec;
    fs::path canonical = fs::canonical(root, ec);
    if (ec || !fs::is_directory(canonical, ec)) {
      missing_.push_back(root);
      continue;
    }
    roots_.push_back(std::move(canonical));
  }
}

std::variant<fs::path, PathRefusal> PathResolver::normalize(std::string_view requested) {
  if (requested.find('\0') != std::string_view::npos) {
    return PathRefusal{ErrorCode::access_violation, "file name contains a NUL byte"};
  }
  std::string name(requested);
  std::replace(name.begin(), name.end(), '\\', '/');
  fs::path relative;
  std::size_t pos = 0;
  while (pos <= name.size()) {
    std::size_t slash = name.find('/', pos);
    if (slash == std::string::npos) slash = name.size();
    std::string_view part(name.data() + pos, slash - pos);
    pos = slash + 1;
    if (part.empty() || part == ".") continue;  // "//", leading '/', "./": no meaning
    if (part == "..") return PathRefusal{ErrorCode::access_violation, "file name contains '..'"};
    relative /= fs::path(std::string(part));
  }
  if (relative.empty()) return PathRefusal{ErrorCode::access_violation, "file name names no file"};
  return relative;
}

bool PathResolver::is_inside(const fs::path& canonical, const fs::path& canonical_root) {
  auto it = canonical.begin();
  for (auto r = canonical_root.begin(); r != canonical_root.end(); ++r, ++it) {
    // A trailing separator shows up as an empty last element: it adds no component.
    if (r->empty() && std::next(r) == canonical_root.end()) break;
    if (it == canonical.end() || *it != *r) return false;
  }
  return it != canonical.end();
}

Resolution PathResolver::resolve(std::string_view requested) const {
  auto normalized = normalize(requested);
  if (auto* refusal = std::get_if<PathRefusal>(&normalized)) return *refusal;
  const auto& relative = std::get<fs::path>(normalized);
  for (const auto& root : roots_) {
    fs::path candidate = root / relative;
    std::error_code ec;
    auto link_status = fs::symlink_status(candidate, ec);
    if (ec || !fs::exists(link_status)) continue;  // includes a missing directory on the way
    fs::path canonical = fs::canonical(candidate, ec);
    if (ec) {
      if (fs::is_symlink(link_status)) continue;  // dangling symlink: nothing to serve here
      return PathRefusal{ErrorCode::access_violation, "cannot resolve the path: " + ec.message()};
    }
    if (!is_inside(canonical, root)) {
      return PathRefusal{ErrorCode::access_violation, "the path leads out of the TFTP root"};
    }
    if (!fs::is_regular_file(canonical, ec)) {
      return PathRefusal{ErrorCode::access_violation, "not a regular file"};
    }
    return ResolvedPath{std::move(canonical), root};
  }
  return PathRefusal{ErrorCode::file_not_found, "file not found"};
}

}  // namespace ramfleet::tftp
