#include "boot/event_secret.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "boot/event_credentials.hpp"
#include "core/hex.hpp"

namespace ramfleet::boot {
namespace fs = std::filesystem;

namespace {
[[noreturn]] void fail(const fs::path& p, const std::string& what) {
  throw std::runtime_error("event credential secret " + p.string() + ": " + what);
}

std::string read_secret(const fs::path& p) {
  std::ifstream in(p);
  if (!in) fail(p, "cannot be read");
  std::string text;
  std::getline(in, text);
  auto bytes = from_hex(text);
  if (!bytes || bytes->size() != EventCredentials::kSecretBytes) {
    fail(p,
         "does not hold 64 hex digits; delete it and restart serve to make a new one (every node then boots "
         "again before it can report)");
  }
  return {bytes->begin(), bytes->end()};
}

void write_all(int fd, const std::string& text, const fs::path& p) {
  std::size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) fail(p, std::string("cannot be written: ") + std::strerror(errno));
    done += static_cast<std::size_t>(n);
  }
}
}  // namespace

std::string load_or_create_event_secret(const fs::path& state_dir) {
  const fs::path path = state_dir / kEventSecretFile;
  std::error_code ec;
  if (fs::exists(path, ec)) return read_secret(path);
  std::string secret = random_event_secret();
  const fs::path tmp = state_dir / (std::string(kEventSecretFile) + ".tmp." + std::to_string(::getpid()));
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) fail(tmp, std::string("cannot be created: ") + std::strerror(errno));
  try {
    write_all(fd, to_hex(std::string_view(secret)) + "\n", tmp);
    if (::fsync(fd) != 0) fail(tmp, std::string("cannot be synced: ") + std::strerror(errno));
  } catch (...) {
    ::close(fd);
    ::unlink(tmp.c_str());
    throw;
  }
  ::close(fd);
  // link(2), not rename(2): it never replaces a secret another process put there first.
  const int linked = ::link(tmp.c_str(), path.c_str());
  const int link_errno = errno;
  ::unlink(tmp.c_str());
  if (linked != 0) {
    if (link_errno == EEXIST) return read_secret(path);
    fail(path, std::string("cannot be created: ") + std::strerror(link_errno));
  }
  if (const int dir = ::open(state_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); dir >= 0) {
    ::fsync(dir);
    ::close(dir);
  }
  return secret;
}

}  // namespace ramfleet::boot
