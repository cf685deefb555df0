#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <vector>

#include "image/image_error.hpp"
#include "image/sources.hpp"

namespace ramfleet::image {
namespace {

void walk(const std::filesystem::path& root, const std::filesystem::path& dir, const std::string& rel, FsTree& tree) {
  std::error_code ec;
  std::vector<std::filesystem::path> children;
  for (std::filesystem::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec))
    children.push_back(it->path());
  if (ec) throw ImageError("cannot read directory " + dir.string() + ": " + ec.message());
  for (const auto& child : children) {
    std::string name = rel.empty() ? child.filename().string() : rel + "/" + child.filename().string();
    struct stat st {};
    if (::lstat(child.c_str(), &st) != 0) throw ImageError("cannot stat " + child.string());
    FsEntry e;
    e.permissions = st.st_mode & 07777;
    e.uid = st.st_uid;
    e.gid = st.st_gid;
    e.mtime = st.st_mtim.tv_sec;
    switch (st.st_mode & S_IFMT) {
      case S_IFDIR:
        e.type = EntryType::directory;
        break;
      case S_IFREG:
        e.type = EntryType::regular;
        e.data = {child, 0, static_cast<std::uint64_t>(st.st_size)};
        break;
      case S_IFLNK: {
        e.type = EntryType::symlink;
        e.link_target = std::filesystem::read_symlink(child, ec).string();
        if (ec) throw ImageError("cannot read symlink " + child.string());
        break;
      }
      case S_IFCHR:
      case S_IFBLK:
        e.type = S_ISCHR(st.st_mode) ? EntryType::char_device : EntryType::block_device;
        e.rdev_major = major(st.st_rdev);
        e.rdev_minor = minor(st.st_rdev);
        break;
      case S_IFIFO:
        e.type = EntryType::fifo;
        break;
      default:
        continue;  // sockets belong to a running system, not an image
    }
    tree.put(name, e);
    if (e.type == EntryType::directory) walk(root, child, name, tree);
  }
}

}  // namespace

FsTree load_directory(const std::filesystem::path& root, SourceInfo& info) {
  if (!std::filesystem::is_directory(root)) throw ImageError(root.string() + ": not a directory");
  info.kind = "directory";
  info.path = root.string();
  FsTree tree;
  walk(root, root, "", tree);
  return tree;
}

}  // namespace ramfleet::image
