#include "config/layer_merge.hpp"

#include <algorithm>
#include <string>

namespace ramfleet::config {

namespace {

template <typename T>
void append_unique(std::vector<Located<T>>& base, const std::vector<Located<T>>& later) {
  for (const auto& item : later) {
    bool present = std::any_of(base.begin(), base.end(), [&](const auto& b) { return b.value == item.value; });
    if (!present) base.push_back(item);
  }
}

void merge_node(NodeEntry& a, const NodeEntry& b) {
  a.at = b.at;
  a.path_at = b.path_at;
  a.overwrite.override_with(b.overwrite);
  if (b.user.set()) a.user = b.user;
  if (b.group.set()) a.group = b.group;
}

void merge_entry(FileEntry& a, FileEntry& b) {
  merge_node(a, b);
  a.mode.override_with(b.mode);
  if (b.contents) a.contents = std::move(b.contents);
  for (auto& r : b.append) a.append.push_back(std::move(r));
}
void merge_entry(DirectoryEntry& a, DirectoryEntry& b) {
  merge_node(a, b);
  a.mode.override_with(b.mode);
}
void merge_entry(LinkEntry& a, LinkEntry& b) {
  merge_node(a, b);
  a.target.override_with(b.target);
  a.hard.override_with(b.hard);
}

const char* kind_of(const FileEntry*) { return "file"; }
const char* kind_of(const DirectoryEntry*) { return "directory"; }
const char* kind_of(const LinkEntry*) { return "link"; }

class StorageMerger {
 public:
  StorageMerger(NodeConfig& base, DiagnosticCollector& diag) : base_(base), diag_(diag) {}

  // Erases `path` from every kind; returns where it was, if anywhere.
  std::optional<std::pair<std::string, Location>> erase(const std::string& path) {
    std::optional<std::pair<std::string, Location>> found;
    auto take = [&](auto& list) {
      auto it = std::find_if(list.begin(), list.end(), [&](const auto& e) { return e.path == path; });
      if (it != list.end()) {
        found = std::make_pair(std::string(kind_of(&*it)), it->at);
        list.erase(it);
      }
    };
    take(base_.files);
    take(base_.directories);
    take(base_.links);
    return found;
  }

  template <typename Entry>
  void remove_all(std::vector<Entry>& later) {
    for (const auto& e : later) {
      if (!e.remove) continue;
      if (!erase(e.path))
        diag_.warning(e.at, std::string(kRemoveKeyText) + " of " + e.path + ": no earlier layer defines it");
    }
  }

  template <typename Entry>
  void define_all(std::vector<Entry>& base_list, std::vector<Entry>& later) {
    for (auto& e : later) {
      if (e.remove) continue;
      auto same = std::find_if(base_list.begin(), base_list.end(), [&](const auto& b) { return b.path == e.path; });
      if (same != base_list.end()) {
        merge_entry(*same, e);
        continue;
      }
      if (auto other = erase(e.path)) {
        diag_.warning(e.path_at, std::string(kind_of(&e)) + " " + e.path + " replaces the " + other->first +
                                     " defined at " + other->second.str() + " (mark that entry " + kRemoveKeyText +
                                     ": true to say so)");
      }
      base_list.push_back(std::move(e));
    }
  }

  static constexpr const char* kRemoveKeyText = "ramfleet.remove";

 private:
  NodeConfig& base_;
  DiagnosticCollector& diag_;
};

// Keyed-by-name lists (units, dropins, users, groups).
template <typename Entry, typename MergeFn>
void merge_named(std::vector<Entry>& base, std::vector<Entry>& later, const char* what, DiagnosticCollector& diag,
                 MergeFn merge) {
  for (const auto& e : later) {
    if (!e.remove) continue;
    auto it = std::find_if(base.begin(), base.end(), [&](const auto& b) { return b.name == e.name; });
    if (it == base.end()) {
      diag.warning(e.at, std::string("ramfleet.remove of ") + what + " " + e.name + ": no earlier layer defines it");
    } else {
      base.erase(it);
    }
  }
  for (auto& e : later) {
    if (e.remove) continue;
    auto it = std::find_if(base.begin(), base.end(), [&](const auto& b) { return b.name == e.name; });
    if (it == base.end()) {
      base.push_back(std::move(e));
    } else {
      merge(*it, e);
    }
  }
}

}  // namespace

void merge_layer(NodeConfig& base, NodeConfig later, DiagnosticCollector& diag) {
  if (later.variant.set()) {
    if (base.variant.set() && *base.variant != *later.variant) {
      diag.error(later.variant.at, "variant '" + *later.variant + "' differs from '" + *base.variant +
                                       "' declared at " + base.variant.at.str() +
                                       ": all layers must share one variant");
    } else {
      base.variant = later.variant;
    }
  }
  base.version.override_with(later.version);
  for (auto& r : later.config_merge) base.config_merge.push_back(std::move(r));
  if (later.config_replace) base.config_replace = std::move(later.config_replace);

  StorageMerger storage(base, diag);
  storage.remove_all(later.files);
  storage.remove_all(later.directories);
  storage.remove_all(later.links);
  storage.define_all(base.files, later.files);
  storage.define_all(base.directories, later.directories);
  storage.define_all(base.links, later.links);

  merge_named(base.units, later.units, "unit", diag, [&](Unit& a, Unit& b) {
    a.at = b.at;
    a.enabled.override_with(b.enabled);
    a.mask.override_with(b.mask);
    a.contents.override_with(b.contents);
    merge_named(a.dropins, b.dropins, "dropin", diag, [](Dropin& x, Dropin& y) {
      x.at = y.at;
      x.contents.override_with(y.contents);
    });
  });
  // Removal entries nested in a brand-new unit have nothing to remove.
  for (auto& u : base.units) {
    for (const auto& d : u.dropins) {
      if (d.remove) diag.warning(d.at, "ramfleet.remove of dropin " + d.name + ": no earlier layer defines it");
    }
    std::erase_if(u.dropins, [](const Dropin& d) { return d.remove; });
  }

  merge_named(base.users, later.users, "user", diag, [](User& a, User& b) {
    a.at = b.at;
    a.password_hash.override_with(b.password_hash);
    append_unique(a.ssh_authorized_keys, b.ssh_authorized_keys);
    a.uid.override_with(b.uid);
    a.gecos.override_with(b.gecos);
    a.home_dir.override_with(b.home_dir);
    a.no_create_home.override_with(b.no_create_home);
    a.primary_group.override_with(b.primary_group);
    append_unique(a.groups, b.groups);
    a.no_user_group.override_with(b.no_user_group);
    a.no_log_init.override_with(b.no_log_init);
    a.shell.override_with(b.shell);
    a.system.override_with(b.system);
    a.should_exist.override_with(b.should_exist);
  });
  merge_named(base.groups, later.groups, "group", diag, [](Group& a, Group& b) {
    a.at = b.at;
    a.gid.override_with(b.gid);
    a.password_hash.override_with(b.password_hash);
    a.system.override_with(b.system);
    a.should_exist.override_with(b.should_exist);
  });

  // A kernel argument is either wanted or unwanted; the later layer decides.
  auto& ka = base.kernel_arguments;
  auto drop = [](std::vector<Located<std::string>>& list, const std::string& v) {
    std::erase_if(list, [&](const auto& x) { return x.value == v; });
  };
  for (const auto& a : later.kernel_arguments.should_exist) drop(ka.should_not_exist, a.value);
  for (const auto& a : later.kernel_arguments.should_not_exist) drop(ka.should_exist, a.value);
  append_unique(ka.should_exist, later.kernel_arguments.should_exist);
  append_unique(ka.should_not_exist, later.kernel_arguments.should_not_exist);
}

}  // namespace ramfleet::config
