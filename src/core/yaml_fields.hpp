#pragma once
// Reading typed fields out of YAML while collecting file:line:column
// diagnostics instead of throwing: one pass reports every mistake in a file.
// Every YAML reader in ramfleet (ramfleet.yaml, http.yaml, the inventory,
// cluster.yaml, Butane layers, `compile --vars-file`) reads through this, so
// a mistake is reported in the same words and at the same place everywhere:
//   - shapes:       "<what>: expected a mapping, found a list"
//   - unknown keys: "unknown key 'x' in <what> (expected one of: a, b)", at the key
//   - missing keys: "<what>: missing required key 'x'", at the parent mapping
//   - values:       "<what> must be ..." at the value (values quoted "so", keys 'so')
// `what` names the field as the operator wrote it ("dhcp.limits", "etcd.members[1]").
// The reports go to a list (one file, one pass) or to a DiagnosticCollector
// (a compilation over several files, whose strict mode makes warnings errors).
#include <yaml-cpp/yaml.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>

#include "core/diagnostic.hpp"
#include "core/duration.hpp"
#include "core/ipv4.hpp"
#include "core/mac_address.hpp"

namespace ramfleet {

// 1-based line and column of a YAML node; {0, 0} when yaml-cpp has no mark.
struct YamlPlace {
  std::size_t line = 0;
  std::size_t column = 0;
};
YamlPlace yaml_place(const YAML::Mark& mark);
inline YamlPlace yaml_place(const YAML::Node& node) { return yaml_place(node.Mark()); }

class YamlFields {
 public:
  YamlFields(std::string file, Diagnostics& out) : file_(std::move(file)), list_(&out) {}
  YamlFields(std::string file, DiagnosticCollector& out) : file_(std::move(file)), collector_(&out) {}

  // Reads and parses `file`; on an unreadable file or a syntax error reports
  // it (core/yaml_syntax.hpp places it where the broken construct starts) and
  // returns nullopt.
  std::optional<YAML::Node> load(std::string_view what = "invalid YAML");
  // The same for text already in memory.
  std::optional<YAML::Node> parse(std::string_view text, std::string_view what = "invalid YAML");

  void error(const YAML::Node& at, std::string message) {
    report(at.Mark(), Diagnostic::Severity::error, std::move(message));
  }
  void error(const YAML::Mark& at, std::string message) { report(at, Diagnostic::Severity::error, std::move(message)); }
  void warning(const YAML::Node& at, std::string message) {
    report(at.Mark(), Diagnostic::Severity::warning, std::move(message));
  }
  // A problem with the file as a whole (no line).
  void error_file(std::string message);

  // True when `node` is a mapping; else "<what>: expected a mapping, found ...".
  bool expect_map(const YAML::Node& node, std::string_view what);
  // The same, and then every key not in `allowed` is reported at the key.
  bool expect_map(const YAML::Node& node, std::string_view what, std::initializer_list<std::string_view> allowed);
  // Reports every key of `map` not in `allowed`; true when there was none.
  bool known_keys(const YAML::Node& map, std::string_view what, std::initializer_list<std::string_view> allowed) {
    return known_keys(map, what, std::span<const std::string_view>(allowed.begin(), allowed.size()));
  }
  bool known_keys(const YAML::Node& map, std::string_view what, std::span<const std::string_view> allowed);
  bool expect_sequence(const YAML::Node& node, std::string_view what);

  // parent[key], or (reported at the parent) an undefined node when it is missing.
  YAML::Node required(const YAML::Node& parent, const std::string& key, std::string_view what);

  // A scalar, as written: "<what>: expected a string, found a mapping" otherwise.
  std::optional<std::string> string(const YAML::Node& node, std::string_view what);
  // true/false (also yes/no, on/off).
  std::optional<bool> boolean(const YAML::Node& node, std::string_view what);
  std::optional<std::int64_t> integer(const YAML::Node& node, std::string_view what, std::int64_t min,
                                      std::int64_t max);
  // A byte count: a whole number, or one with a binary unit ("64KiB", "1MiB", "2GiB"; K/M/G too).
  std::optional<std::uint64_t> size(const YAML::Node& node, std::string_view what, std::uint64_t min,
                                    std::uint64_t max);
  std::optional<Ipv4> ipv4(const YAML::Node& node, std::string_view what);
  std::optional<Ipv4Subnet> subnet(const YAML::Node& node, std::string_view what);
  std::optional<MacAddress> mac(const YAML::Node& node, std::string_view what);
  // core/duration.hpp's grammar, bare numbers in seconds, positive and in
  // whole seconds: "3600", "90s", "1h30m".
  std::optional<std::chrono::seconds> duration(const YAML::Node& node, std::string_view what);
  // core/duration.hpp's grammar to the millisecond, positive; a bare number
  // counts in `bare` (seconds for new keys, milliseconds for the old *_ms ones).
  std::optional<std::chrono::milliseconds> duration_ms(const YAML::Node& node, std::string_view what,
                                                       BareUnit bare = BareUnit::seconds);
  // One of `choices` (name, value pairs): "<what>: \"x\" is not one of: a, b" otherwise.
  template <typename T>
  std::optional<T> one_of(const YAML::Node& node, std::string_view what,
                          std::initializer_list<std::pair<std::string_view, T>> choices) {
    auto text = string(node, what);
    if (!text) return std::nullopt;
    std::string names;
    for (const auto& [name, value] : choices) {
      if (name == *text) return value;
      names += (names.empty() ? "" : ", ") + std::string(name);
    }
    error(node, std::string(what) + ": \"" + *text + "\" is not one of: " + names);
    return std::nullopt;
  }

  // "a mapping", "a list", "nothing" or the scalar itself in quotes: what was found.
  static std::string kind(const YAML::Node& node);

  [[nodiscard]] const std::string& file() const { return file_; }
  [[nodiscard]] YamlPlace place(const YAML::Node& node) const { return yaml_place(node); }
  // file:line:column of a node or mark in this file (line 0 when yaml-cpp has no mark).
  [[nodiscard]] Location location(const YAML::Mark& mark) const {
    const auto p = yaml_place(mark);
    return {file_, p.line, p.column};
  }
  [[nodiscard]] Location location(const YAML::Node& node) const { return location(node.Mark()); }
  // Errors this reader reported so far (its own, not the shared list's).
  [[nodiscard]] std::size_t errors() const { return errors_; }

 private:
  void report(const YAML::Mark& at, Diagnostic::Severity severity, std::string message);

  std::string file_;
  void add(Diagnostic d);

  Diagnostics* list_ = nullptr;
  DiagnosticCollector* collector_ = nullptr;
  std::size_t errors_ = 0;
};

}  // namespace ramfleet
