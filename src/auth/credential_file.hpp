#pragma once
// STATE/api/tokens on disk: read, changed under a lock, replaced atomically
// (temp file + rename, mode 0600, owner kept), and watched by a running serve
// so a revocation takes effect on the next request without a restart.
#include <sys/types.h>

#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "auth/credential_book.hpp"

namespace ramfleet::auth {

// STATE/api: the credentials, the operator CA, the bootstrap admin token.
std::filesystem::path api_dir(const std::filesystem::path& state_dir);
std::filesystem::path tokens_path(const std::filesystem::path& state_dir);
std::filesystem::path admin_token_path(const std::filesystem::path& state_dir);

// Reads the book; a missing file is an empty book. Throws std::runtime_error
// naming the file and line on a malformed one.
CredentialBook load_book(const std::filesystem::path& path);

// Read-modify-write under an exclusive lock (STATE/api/tokens.lock), so two
// `ramfleet api` commands never lose each other's change. `change` returns an
// error to abandon the write; it is returned as is.
std::optional<std::string> update_book(const std::filesystem::path& state_dir,
                                       const std::function<std::optional<std::string>(CredentialBook&)>& change);

// The book as a running server sees it: re-read when the file's identity
// changes (inode, size, mtime, ctime: a rename, an edit, a chown). One stat
// per call. A file that cannot be read or parsed is an empty book (every
// credential refused) until it is fixed: fail closed, logged once per change.
class WatchedBook {
 public:
  explicit WatchedBook(std::filesystem::path path);
  const CredentialBook& current();
  [[nodiscard]] std::uint64_t reloads() const { return reloads_; }

 private:
  struct Identity {
    dev_t dev = 0;
    ino_t ino = 0;
    off_t size = -1;
    std::int64_t mtime_ns = 0, ctime_ns = 0;
    bool operator==(const Identity&) const = default;
  };
  std::filesystem::path path_;
  std::optional<Identity> seen_;
  CredentialBook book_;
  std::uint64_t reloads_ = 0;
};

}  // namespace ramfleet::auth
