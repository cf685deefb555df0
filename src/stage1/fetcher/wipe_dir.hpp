#pragma once
// Empties a directory (the tmpfs a root was being written into) without
// following any symlink in it: a half-written root is thrown away whole.
#include <string>

namespace ramfleet::stage1 {

// Removes everything under `dir`, keeping `dir` itself. Throws
// std::runtime_error when something cannot be removed.
void wipe_dir(const std::string& dir);

}  // namespace ramfleet::stage1
