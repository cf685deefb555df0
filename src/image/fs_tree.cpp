#include "image/fs_tree.hpp"

namespace ramfleet::image {

std::optional<std::string> normalize_path(std::string_view path) {
  std::string out;
  std::size_t i = 0;
  while (i <= path.size()) {
    auto slash = path.find('/', i);
    if (slash == std::string_view::npos) slash = path.size();
    auto seg = path.substr(i, slash - i);
    i = slash + 1;
    if (seg.empty() || seg == ".") continue;
    if (seg == "..") return std::nullopt;
    if (!out.empty()) out += '/';
    out.append(seg);
  }
  if (out.empty()) return std::nullopt;
  return out;
}

void FsTree::put(const std::string& path, FsEntry entry) {
  // Parents first, so the archive can always create the entry.
  for (auto slash = path.find('/'); slash != std::string::npos; slash = path.find('/', slash + 1)) {
    auto parent = path.substr(0, slash);
    auto it = entries_.find(parent);
    if (it == entries_.end()) {
      FsEntry dir;
      dir.type = EntryType::directory;
      dir.permissions = 0755;
      entries_.emplace(parent, dir);
    } else if (it->second.type != EntryType::directory) {
      // A file where a directory is needed: the later layer wins.
      clear_children(parent);
      it->second = FsEntry{};
      it->second.type = EntryType::directory;
      it->second.permissions = 0755;
    }
  }
  if (entry.type != EntryType::directory) clear_children(path);
  entries_[path] = std::move(entry);
}

void FsTree::clear_children(const std::string& path) {
  auto prefix = path + "/";
  auto it = entries_.lower_bound(prefix);
  while (it != entries_.end() && it->first.compare(0, prefix.size(), prefix) == 0) it = entries_.erase(it);
}

void FsTree::remove(const std::string& path) {
  clear_children(path);
  entries_.erase(path);
}

const FsEntry* FsTree::find(const std::string& path) const {
  auto it = entries_.find(path);
  return it == entries_.end() ? nullptr : &it->second;
}

}  // namespace ramfleet::image
