#include "auth/credential_file.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <stdexcept>
#include <system_error>

#include "core/log.hpp"
#include "kube/secret_files.hpp"

namespace ramfleet::auth {

std::filesystem::path api_dir(const std::filesystem::path& state_dir) { return state_dir / "api"; }
std::filesystem::path tokens_path(const std::filesystem::path& state_dir) { return api_dir(state_dir) / "tokens"; }
std::filesystem::path admin_token_path(const std::filesystem::path& state_dir) {
  return api_dir(state_dir) / "admin.token";
}

namespace {
CredentialBook parse_or_throw(const std::filesystem::path& path, const std::string& text) {
  auto parsed = CredentialBook::parse(text);
  if (auto* err = std::get_if<BookError>(&parsed)) {
    throw std::runtime_error(path.string() + ":" + std::to_string(err->line) + ": " + err->message);
  }
  return std::get<CredentialBook>(std::move(parsed));
}

struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};
}  // namespace

CredentialBook load_book(const std::filesystem::path& path) {
  auto text = kube::read_file(path);
  if (!text) return {};
  return parse_or_throw(path, *text);
}

std::optional<std::string> update_book(const std::filesystem::path& state_dir,
                                       const std::function<std::optional<std::string>(CredentialBook&)>& change) {
  const auto dir = api_dir(state_dir);
  kube::make_private_dirs(dir);
  Fd lock{::open((dir / "tokens.lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600)};
  if (lock.fd < 0 || ::flock(lock.fd, LOCK_EX) != 0) {
    throw std::system_error(errno, std::generic_category(), "cannot lock " + (dir / "tokens.lock").string());
  }
  const auto path = tokens_path(state_dir);
  CredentialBook book = load_book(path);
  if (auto err = change(book)) return err;
  // The file keeps its owner: serve may run as another user (serve --user)
  // and must still read it after root changed it.
  struct stat old {};
  const bool had = ::stat(path.c_str(), &old) == 0;
  kube::write_file_atomic(path, book.serialize());
  if (had && ::geteuid() == 0 && (old.st_uid != 0 || old.st_gid != 0)) {
    if (::chown(path.c_str(), old.st_uid, old.st_gid) != 0) {
      throw std::system_error(errno, std::generic_category(), "cannot keep the owner of " + path.string());
    }
  }
  return std::nullopt;
}

WatchedBook::WatchedBook(std::filesystem::path path) : path_(std::move(path)) {}

const CredentialBook& WatchedBook::current() {
  struct stat s {};
  std::optional<Identity> now;
  if (::stat(path_.c_str(), &s) == 0) {
    now = Identity{s.st_dev, s.st_ino, s.st_size,
                   static_cast<std::int64_t>(s.st_mtim.tv_sec) * 1'000'000'000 + s.st_mtim.tv_nsec,
                   static_cast<std::int64_t>(s.st_ctim.tv_sec) * 1'000'000'000 + s.st_ctim.tv_nsec};
  }
  if (reloads_ > 0 && now == seen_) return book_;  // the usual case: one stat, nothing changed
  ++reloads_;
  seen_ = now;
  book_ = {};
  if (!now) return book_;  // no file: no credentials yet
  try {
    auto text = kube::read_file(path_);
    if (!text) throw std::runtime_error("cannot read " + path_.string());
    book_ = parse_or_throw(path_, *text);
    log::info("api.credentials_loaded", {{"file", path_.string()},
                                         {"credentials", book_.credentials().size()},
                                         {"revoked", book_.revocations().size()}});
  } catch (const std::exception& e) {
    // Fail closed until the file changes again (a fix, a chmod or chown all
    // change its ctime): every credential is refused meanwhile.
    log::error("api.credentials_unreadable", {{"file", path_.string()}, {"error", e.what()}});
  }
  return book_;
}

}  // namespace ramfleet::auth
