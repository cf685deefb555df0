#pragma once
// The parsed form of one Butane layer, and of the merged machine config.
// Every optional field remembers where it was written, so merging can tell
// "unset" from "set to the default" (a later layer only overrides what it
// sets) and each output can point at the exact line it cannot express.
#include <optional>
#include <string>
#include <vector>

#include "core/diagnostic.hpp"

namespace ramfleet::config {

template <typename T>
struct Opt {
  std::optional<T> value;
  Location at;
  [[nodiscard]] bool set() const { return value.has_value(); }
  const T& operator*() const { return *value; }
  const T* operator->() const { return &*value; }
  // Later layers override only what they set.
  void override_with(const Opt& later) {
    if (later.set()) *this = later;
  }
};

template <typename T>
struct Located {
  T value;
  Location at;
};

struct HttpHeader {
  std::string name;
  std::string value;
  Location at;
};

// File contents, an append fragment, or a config to merge/replace.
// inline and local contents are read at parse time into `data`; a remote
// `source` URL is kept as is (only Ignition can fetch it at boot).
struct Resource {
  Location at;
  std::optional<std::string> data;     // bytes from `inline` or `local`
  std::optional<std::string> source;   // URL from `source`
  Location data_at;                    // where inline/local was written
  Opt<std::string> compression;        // "gzip" (data is already compressed)
  Opt<std::string> verification_hash;  // "sha512-<hex>" / "sha256-<hex>"
  std::vector<HttpHeader> http_headers;
};

struct Owner {
  Opt<int> id;
  Opt<std::string> name;
  [[nodiscard]] bool set() const { return id.set() || name.set(); }
};

// Common part of files, directories and links (Ignition's "node").
struct NodeEntry {
  Location at;       // the list item
  std::string path;  // absolute
  Location path_at;
  bool remove = false;  // `ramfleet.remove: true`
  Opt<bool> overwrite;
  Owner user;
  Owner group;
};

struct FileEntry : NodeEntry {
  Opt<int> mode;
  std::optional<Resource> contents;
  std::vector<Resource> append;
};

struct DirectoryEntry : NodeEntry {
  Opt<int> mode;
};

struct LinkEntry : NodeEntry {
  Opt<std::string> target;
  Opt<bool> hard;
};

struct Dropin {
  Location at;
  std::string name;
  bool remove = false;
  Opt<std::string> contents;
};

struct Unit {
  Location at;
  std::string name;
  bool remove = false;
  Opt<bool> enabled;
  Opt<bool> mask;
  Opt<std::string> contents;
  std::vector<Dropin> dropins;
};

struct User {
  Location at;
  std::string name;
  bool remove = false;
  Opt<std::string> password_hash;
  std::vector<Located<std::string>> ssh_authorized_keys;
  Opt<int> uid;
  Opt<std::string> gecos;
  Opt<std::string> home_dir;
  Opt<bool> no_create_home;
  Opt<std::string> primary_group;
  std::vector<Located<std::string>> groups;
  Opt<bool> no_user_group;
  Opt<bool> no_log_init;
  Opt<std::string> shell;
  Opt<bool> system;
  Opt<bool> should_exist;
};

struct Group {
  Location at;
  std::string name;
  bool remove = false;
  Opt<int> gid;
  Opt<std::string> password_hash;
  Opt<bool> system;
  Opt<bool> should_exist;
};

struct KernelArguments {
  std::vector<Located<std::string>> should_exist;
  std::vector<Located<std::string>> should_not_exist;
  [[nodiscard]] bool empty() const { return should_exist.empty() && should_not_exist.empty(); }
};

struct NodeConfig {
  Opt<std::string> variant;
  Opt<std::string> version;
  std::vector<Resource> config_merge;
  std::optional<Resource> config_replace;
  std::vector<FileEntry> files;
  std::vector<DirectoryEntry> directories;
  std::vector<LinkEntry> links;
  std::vector<Unit> units;
  std::vector<User> users;
  std::vector<Group> groups;
  KernelArguments kernel_arguments;
};

}  // namespace ramfleet::config
