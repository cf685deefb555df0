#pragma once
// Machine files: <config>/machines/<name>.yaml, one approved machine each
// (docs/inventory.md, "Machine files"). The operator API's approve and label
// writes produce them (docs/operations.md, "Writes"); people may write them
// by hand too, and both live in version control like every inventory file.
//
//   # machines/node7.yaml
//   mac: "52:54:00:00:00:07"     # or uuid: ...; exactly one
//   group: workers               # a group in groups/
//   labels: {rack: r1}           # optional
//
// The loader turns each into a group of its own: the named group's profile,
// config layers and metadata, plus the labels and `hostname: <name>`, under
// an exact-MAC (or UUID) selector, so it outranks the group's own selector
// and the machine boots as a member of that group under its name.
//
// Sans-IO: validation and rendering only; the loader reads, the HTTP write
// handlers write (atomically) and reload.
#include <cstddef>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "core/mac_address.hpp"

namespace ramfleet::inventory {

inline constexpr std::size_t kMaxMachineName = 63;  // a DNS-1123 label: it becomes a node's host name
inline constexpr std::size_t kMaxLabels = 32;
inline constexpr std::size_t kMaxLabelKey = 63;
inline constexpr std::size_t kMaxLabelValue = 253;

struct MachineFile {
  std::string name;   // the file's stem and the machine's host name
  std::string group;  // the id of a group in groups/
  std::optional<MacAddress> mac;
  std::string uuid;  // lower-case with dashes, when there is no MAC
  std::map<std::string, std::string> labels;
};

// Empty when `name` may name a machine file and a host: 1-63 characters of
// [a-z0-9-], starting and ending with a letter or digit (so no '/', '.',
// "..", NUL, upper case or blank can reach a path); else why not.
std::string machine_name_refusal(std::string_view name);
// Empty when `id` is spelled like a group id (1-64 of [A-Za-z0-9._-], not
// "." or ".."); whether such a group exists is the caller's question.
std::string group_id_refusal(std::string_view id);
// Empty when a label is acceptable: key 1-63 of [A-Za-z0-9._-] starting with
// a letter or digit, not "hostname" (that is the machine's name); value at
// most 253 bytes of printable text (no control characters).
std::string label_refusal(std::string_view key, std::string_view value);

// The machine a machine id names ("52:54:00:00:00:07" or "uuid-<uuid>") as
// the selector key and value a machine file uses; nullopt for anything else.
struct MachineKey {
  std::optional<MacAddress> mac;
  std::string uuid;
};
std::optional<MachineKey> machine_key(std::string_view machine_id);

// The YAML text of a machine file; `comment` (one line per '\n') goes first
// as # comments. Every value is a double-quoted scalar with JSON escapes
// (valid YAML), so nothing in a value can add a key.
std::string render_machine_file(const MachineFile& m, std::string_view comment);

// <config>/machines/<name>.yaml (the name must pass machine_name_refusal).
std::filesystem::path machine_file_path(const std::filesystem::path& config_dir, std::string_view name);

}  // namespace ramfleet::inventory
