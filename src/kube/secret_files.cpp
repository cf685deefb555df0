#include "kube/secret_files.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "core/hex.hpp"
#include "kube/crypto.hpp"

namespace ramfleet::kube {

namespace fs = std::filesystem;

namespace {
[[noreturn]] void fail(const std::string& what, const fs::path& path) {
  throw StateError(what + " " + path.string() + ": " + std::strerror(errno));
}

}  // namespace

void make_private_dirs(const fs::path& dir) {
  if (dir.empty()) return;
  if (fs::is_directory(dir)) return;
  make_private_dirs(dir.parent_path());
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) fail("mkdir", dir);
}

void sync_path(const fs::path& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) fail("open", path);
  int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) fail("fsync", path);
}

void write_file_atomic(const fs::path& path, std::string_view data, fs::perms mode) {
  const fs::path dir = path.parent_path().empty() ? fs::path(".") : path.parent_path();
  make_private_dirs(dir);
  const fs::path tmp = dir / ("." + path.filename().string() + ".tmp-" + to_hex(random_bytes(6)));
  // O_EXCL + mode 0600 from the start: the secret is never readable by others,
  // not even for the moment between create and chmod.
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, static_cast<mode_t>(mode));
  if (fd < 0) fail("create", tmp);
  std::size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      ::close(fd);
      ::unlink(tmp.c_str());
      fail("write", tmp);
    }
    done += static_cast<std::size_t>(n);
  }
  if (::fchmod(fd, static_cast<mode_t>(mode)) != 0 || ::fsync(fd) != 0) {
    ::close(fd);
    ::unlink(tmp.c_str());
    fail("fsync", tmp);
  }
  ::close(fd);
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    ::unlink(tmp.c_str());
    fail("rename", path);
  }
  sync_path(dir);
}

std::optional<std::string> read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string read_file_or_throw(const fs::path& path) {
  auto data = read_file(path);
  if (!data) throw StateError("cannot read " + path.string());
  return *data;
}

}  // namespace ramfleet::kube
