#pragma once
// Files that hold secrets: written atomically (temp file in the same
// directory, fsync, rename, fsync of the directory) with mode 0600, inside
// directories created 0700. A reader sees the old content or the new, never a
// half-written key.
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace ramfleet::kube {

class StateError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Creates dir and its missing parents with mode 0700.
void make_private_dirs(const std::filesystem::path& dir);
// Replaces path with data atomically; the file gets mode 0600 (or mode).
void write_file_atomic(const std::filesystem::path& path, std::string_view data,
                       std::filesystem::perms mode = std::filesystem::perms::owner_read |
                                                     std::filesystem::perms::owner_write);
// fsyncs a file or directory so a rename into it survives a crash.
void sync_path(const std::filesystem::path& path);
std::optional<std::string> read_file(const std::filesystem::path& path);
std::string read_file_or_throw(const std::filesystem::path& path);

}  // namespace ramfleet::kube
