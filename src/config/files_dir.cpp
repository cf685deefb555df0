#include "config/files_dir.hpp"

#include <fstream>
#include <iterator>
#include <system_error>

namespace ramfleet::config {

namespace fs = std::filesystem;

std::optional<std::string> read_whole_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) return std::nullopt;
  return data;
}

namespace {
bool is_within(const fs::path& root, const fs::path& candidate) {
  auto r = root.begin();
  auto c = candidate.begin();
  for (; r != root.end(); ++r, ++c) {
    if (r->empty()) continue;  // trailing separator
    if (c == candidate.end() || *r != *c) return false;
  }
  return true;
}
}  // namespace

std::optional<fs::path> FilesDir::resolve(const std::string& relative, const Location& at, DiagnosticCollector& diag,
                                          bool want_directory) const {
  if (!root_) {
    diag.error(at, "local '" + relative + "' needs --files-dir (no files directory was given)");
    return std::nullopt;
  }
  fs::path rel(relative);
  if (relative.empty() || rel.is_absolute() || rel.has_root_name()) {
    diag.error(at, "local '" + relative + "' must be a relative path inside --files-dir");
    return std::nullopt;
  }
  fs::path normal = rel.lexically_normal();
  if (!normal.empty() && *normal.begin() == "..") {
    diag.error(at, "local '" + relative + "' escapes --files-dir");
    return std::nullopt;
  }
  std::error_code ec;
  fs::path root = fs::weakly_canonical(*root_, ec);
  if (ec) root = *root_;
  fs::path full = fs::weakly_canonical(root / normal, ec);
  if (ec) full = root / normal;
  // A symlink inside the files directory may still point outside of it.
  if (!is_within(root, full)) {
    diag.error(at, "local '" + relative + "' escapes --files-dir (through a symbolic link)");
    return std::nullopt;
  }
  auto st = fs::status(full, ec);
  if (ec || !fs::exists(st)) {
    diag.error(at, "local " + std::string(want_directory ? "directory" : "file") + " '" + relative +
                       "' not found in --files-dir (" + full.string() + ")");
    return std::nullopt;
  }
  if (want_directory ? !fs::is_directory(st) : !fs::is_regular_file(st)) {
    diag.error(at, "local '" + relative + "' is not a " + (want_directory ? "directory" : "regular file"));
    return std::nullopt;
  }
  return full;
}

std::optional<std::string> FilesDir::read(const std::string& relative, const Location& at,
                                          DiagnosticCollector& diag) const {
  auto path = resolve(relative, at, diag);
  if (!path) return std::nullopt;
  auto data = read_whole_file(*path);
  if (!data) diag.error(at, "cannot read local file '" + relative + "'");
  return data;
}

}  // namespace ramfleet::config
