#pragma once
// The inventory: profiles (what to boot), groups (which machines boot it) and
// the default for machines no group selects. Immutable once loaded: a reload
// builds a new Inventory and swaps a shared_ptr, so requests in flight keep the
// one they started with.
#include <cstddef>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "inventory/selector.hpp"

namespace ramfleet::inventory {

struct SourceMark {
  std::string file;  // as given to the loader (config dir joined with a relative path)
  std::size_t line = 0;
  std::size_t column = 0;
  [[nodiscard]] std::string str() const {
    return line ? file + ":" + std::to_string(line) + ":" + std::to_string(column) : file;
  }
};

struct Profile {
  std::string id;
  std::string kernel;                // asset name or http(s) URL; mustache template
  std::vector<std::string> initrds;  // same
  std::vector<std::string> args;     // kernel arguments; mustache templates
  std::string config;                // OS config name served to the node (issue 5)
  SourceMark mark;
};

struct Group {
  std::string id;
  std::string profile;
  Selector selector;
  std::map<std::string, std::string> metadata;  // template variables {{metadata.key}}
  SourceMark mark;
};

struct DefaultAction {
  enum class Kind { exit, profile };
  Kind kind = Kind::exit;
  std::string profile;  // when kind == profile
  SourceMark mark;
};

struct Inventory {
  std::map<std::string, Profile, std::less<>> profiles;
  std::vector<Group> groups;  // most specific first, then by id (stable listing order)
  DefaultAction unmatched;

  [[nodiscard]] const Profile* profile(std::string_view id) const {
    auto it = profiles.find(id);
    return it == profiles.end() ? nullptr : &it->second;
  }
};

using InventoryPtr = std::shared_ptr<const Inventory>;

}  // namespace ramfleet::inventory
