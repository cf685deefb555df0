#include "stage1/tree_writer.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace ramfleet::stage1 {
namespace {

void close_fd(int& fd) {
  if (fd >= 0) ::close(fd);
  fd = -1;
}

// Splits "a/b/c" into components; rejects what could leave the root.
std::vector<std::string> components(const std::string& name, std::string& why) {
  std::vector<std::string> out;
  if (name.empty()) {
    why = "empty name";
    return {};
  }
  if (name.front() == '/') {
    why = "absolute name";
    return {};
  }
  std::size_t start = 0;
  while (start <= name.size()) {
    auto slash = name.find('/', start);
    if (slash == std::string::npos) slash = name.size();
    std::string part = name.substr(start, slash - start);
    start = slash + 1;
    if (part.empty() || part == ".") continue;  // "a//b", "./a", "a/."
    if (part == "..") {
      why = "\"..\" in the name";
      return {};
    }
    out.push_back(std::move(part));
  }
  return out;
}

timespec to_timespec(std::uint32_t t) {
  timespec ts{};
  ts.tv_sec = static_cast<time_t>(t);
  return ts;
}

}  // namespace

TreeWriter::TreeWriter(const std::string& dir) : as_root_(::geteuid() == 0) {
  root_fd_ = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (root_fd_ < 0) throw std::runtime_error("cannot open " + dir + ": " + std::strerror(errno));
}

TreeWriter::~TreeWriter() {
  close_fd(file_fd_);
  close_current();
  close_fd(root_fd_);
}

void TreeWriter::fail(const std::string& what, int err) const {
  std::string msg = "cannot create " + entry_.name + ": " + what;
  if (err != 0) msg += std::string(" (") + std::strerror(err) + ")";
  throw std::runtime_error(msg);
}

void TreeWriter::close_current() {
  if (parent_fd_ >= 0 && parent_fd_ != root_fd_) ::close(parent_fd_);
  parent_fd_ = -1;
}

int TreeWriter::open_parent(const std::string& name, std::string& leaf) const {
  std::string why;
  auto parts = components(name, why);
  if (parts.empty()) {
    if (!why.empty()) throw std::runtime_error("refusing cpio entry \"" + name + "\": " + why);
    return -1;  // "." : the root itself
  }
  leaf = parts.back();
  parts.pop_back();
  int fd = root_fd_;
  for (const auto& part : parts) {
    int next = ::openat(fd, part.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    int err = errno;
    if (fd != root_fd_) ::close(fd);
    if (next < 0) {
      std::string msg = "refusing cpio entry \"" + name + "\": ";
      if (err == ELOOP || err == ENOTDIR)
        msg += "its parent \"" + part + "\" is a symlink or not a directory";
      else
        msg += "cannot open its parent \"" + part + "\" (" + std::strerror(err) + ")";
      throw std::runtime_error(msg);
    }
    fd = next;
  }
  return fd;
}

void TreeWriter::begin(const CpioEntry& entry) {
  entry_ = entry;
  link_target_.clear();
  close_current();
  int parent = open_parent(entry.name, leaf_);
  ++stats_.entries;
  if (parent < 0) {  // the root directory itself: take its mode and owner
    if (entry.type != CpioType::directory)
      throw std::runtime_error("refusing cpio entry \".\" that is not a directory");
    if (as_root_ && ::fchown(root_fd_, entry.uid, entry.gid) != 0) fail("chown", errno);
    dir_times_.push_back({".", entry.mtime, entry.permissions});
    return;
  }
  parent_fd_ = parent;
  const char* leaf = leaf_.c_str();
  switch (entry.type) {
    case CpioType::directory: {
      if (::mkdirat(parent_fd_, leaf, 0700) != 0) {
        int err = errno;
        struct stat st {};
        // An archive may name a directory twice (or after its contents):
        // fine if what is there is a real directory, never a symlink.
        if (err != EEXIST || ::fstatat(parent_fd_, leaf, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISDIR(st.st_mode))
          fail("mkdir", err);
      }
      if (as_root_ && ::fchownat(parent_fd_, leaf, entry.uid, entry.gid, AT_SYMLINK_NOFOLLOW) != 0)
        fail("chown", errno);
      // Bounded: a few KiB of zstd can name millions of directories.
      dir_name_bytes_ += entry.name.size();
      if (dir_name_bytes_ > max_dir_name_bytes) fail("the archive names more directories than stage 1 keeps track of");
      dir_times_.push_back({entry.name, entry.mtime, entry.permissions});
      break;
    }
    case CpioType::regular:
      file_fd_ = ::openat(parent_fd_, leaf, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
      if (file_fd_ < 0) fail("open", errno);
      break;
    case CpioType::symlink:
      break;  // made in end(), once the target has arrived
    case CpioType::char_device:
    case CpioType::block_device:
    case CpioType::fifo:
    case CpioType::socket: {
      mode_t type = entry.type == CpioType::char_device    ? S_IFCHR
                    : entry.type == CpioType::block_device ? S_IFBLK
                    : entry.type == CpioType::fifo         ? S_IFIFO
                                                           : S_IFSOCK;
      dev_t dev = makedev(entry.rdev_major, entry.rdev_minor);
      if (::mknodat(parent_fd_, leaf, type | 0600, dev) != 0) {
        int err = errno;
        if (err == EPERM) fail("mknod needs root (stage 1 runs as PID 1)", err);
        fail("mknod", err);
      }
      if (as_root_ && ::fchownat(parent_fd_, leaf, entry.uid, entry.gid, AT_SYMLINK_NOFOLLOW) != 0)
        fail("chown", errno);
      if (::fchmodat(parent_fd_, leaf, entry.permissions, 0) != 0) fail("chmod", errno);
      break;
    }
  }
}

void TreeWriter::data(ByteView piece) {
  if (entry_.type == CpioType::symlink) {
    link_target_.append(as_text(piece));
    return;
  }
  if (file_fd_ < 0) fail("data for an entry that is not a file");
  while (!piece.empty()) {
    ssize_t n = ::write(file_fd_, piece.data(), piece.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      fail("write", errno);  // ENOSPC: the tmpfs is too small for the image
    }
    piece = piece.subspan(static_cast<std::size_t>(n));
    stats_.file_bytes += static_cast<std::size_t>(n);
  }
}

void TreeWriter::end() {
  timespec times[2] = {to_timespec(entry_.mtime), to_timespec(entry_.mtime)};
  if (entry_.type == CpioType::regular && file_fd_ >= 0) {
    // Owner before mode: chown clears setuid/setgid bits.
    if (as_root_ && ::fchown(file_fd_, entry_.uid, entry_.gid) != 0) fail("chown", errno);
    if (::fchmod(file_fd_, entry_.permissions) != 0) fail("chmod", errno);
    if (::futimens(file_fd_, times) != 0) fail("set mtime", errno);
    int fd = file_fd_;
    file_fd_ = -1;
    if (::close(fd) != 0) fail("close", errno);
  } else if (entry_.type == CpioType::symlink && parent_fd_ >= 0) {
    if (link_target_.find('\0') != std::string::npos) fail("symlink target contains a NUL byte");
    if (::symlinkat(link_target_.c_str(), parent_fd_, leaf_.c_str()) != 0) fail("symlink", errno);
    if (as_root_ && ::fchownat(parent_fd_, leaf_.c_str(), entry_.uid, entry_.gid, AT_SYMLINK_NOFOLLOW) != 0)
      fail("chown", errno);
    if (::utimensat(parent_fd_, leaf_.c_str(), times, AT_SYMLINK_NOFOLLOW) != 0) fail("set mtime", errno);
  } else if (entry_.type != CpioType::directory && parent_fd_ >= 0) {
    if (::utimensat(parent_fd_, leaf_.c_str(), times, AT_SYMLINK_NOFOLLOW) != 0) fail("set mtime", errno);
  }
  close_current();
}

void TreeWriter::finish() {
  // Setting a directory's mode or times does not touch its parent's, so the
  // order does not matter.
  for (const auto& d : dir_times_) {
    timespec times[2] = {to_timespec(d.mtime), to_timespec(d.mtime)};
    entry_.name = d.name;
    std::string leaf;
    int parent = open_parent(d.name, leaf);
    int fd = parent < 0 ? root_fd_ : ::openat(parent, leaf.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    int err = errno;
    if (parent >= 0 && parent != root_fd_) ::close(parent);
    if (fd < 0) fail("reopen directory", err);
    int rc = ::fchmod(fd, d.permissions) == 0 && ::futimens(fd, times) == 0 ? 0 : -1;
    err = errno;
    if (fd != root_fd_) ::close(fd);
    if (rc != 0) fail("set mode and mtime", err);
  }
  dir_times_.clear();
}

}  // namespace ramfleet::stage1
