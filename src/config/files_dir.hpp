#pragma once
// Reading `local:` files and `trees:` from --files-dir, refusing anything that
// escapes it (by "..", an absolute path, or a symlink pointing outside).
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "core/diagnostic.hpp"

namespace ramfleet::config {

class FilesDir {
 public:
  explicit FilesDir(std::optional<std::filesystem::path> root) : root_(std::move(root)) {}

  // Resolves `relative` inside the root; nullopt (with an error at `at`) when it
  // is not allowed or not there. `kind` says what is expected ("file", "directory").
  std::optional<std::filesystem::path> resolve(const std::string& relative, const Location& at,
                                               DiagnosticCollector& diag, bool want_directory = false) const;
  // Resolves and reads a regular file.
  std::optional<std::string> read(const std::string& relative, const Location& at, DiagnosticCollector& diag) const;

 private:
  std::optional<std::filesystem::path> root_;
};

std::optional<std::string> read_whole_file(const std::filesystem::path& path);

}  // namespace ramfleet::config
