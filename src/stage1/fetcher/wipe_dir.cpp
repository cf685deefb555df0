#include "stage1/fetcher/wipe_dir.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

namespace ramfleet::stage1 {
namespace {

// Depth is bounded by what the archive could create (names < 4096 bytes).
void wipe_fd(int fd, const std::string& where, int depth) {
  if (depth > 2048) throw std::runtime_error("cannot wipe " + where + ": nested too deep");
  int dup_fd = ::dup(fd);
  DIR* d = dup_fd < 0 ? nullptr : ::fdopendir(dup_fd);
  if (!d) {
    if (dup_fd >= 0) ::close(dup_fd);
    throw std::runtime_error("cannot list " + where + ": " + std::strerror(errno));
  }
  std::vector<std::string> names;
  while (auto* e = ::readdir(d)) {
    std::string n = e->d_name;
    if (n != "." && n != "..") names.push_back(std::move(n));
  }
  ::closedir(d);
  for (const auto& n : names) {
    if (::unlinkat(fd, n.c_str(), 0) == 0) continue;
    if (errno != EISDIR) throw std::runtime_error("cannot remove " + where + "/" + n + ": " + std::strerror(errno));
    int sub = ::openat(fd, n.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (sub < 0) throw std::runtime_error("cannot open " + where + "/" + n + ": " + std::strerror(errno));
    try {
      wipe_fd(sub, where + "/" + n, depth + 1);
    } catch (...) {
      ::close(sub);
      throw;
    }
    ::close(sub);
    if (::unlinkat(fd, n.c_str(), AT_REMOVEDIR) != 0)
      throw std::runtime_error("cannot remove " + where + "/" + n + ": " + std::strerror(errno));
  }
}

}  // namespace

void wipe_dir(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) throw std::runtime_error("cannot open " + dir + ": " + std::strerror(errno));
  try {
    wipe_fd(fd, dir, 0);
  } catch (...) {
    ::close(fd);
    throw;
  }
  ::close(fd);
}

}  // namespace ramfleet::stage1
