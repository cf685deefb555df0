#include "core/yaml_fields.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <fstream>
#include <iterator>

#include "core/yaml_syntax.hpp"

namespace ramfleet {

YamlPlace yaml_place(const YAML::Mark& mark) {
  if (mark.line < 0 || mark.column < 0) return {};
  return {static_cast<std::size_t>(mark.line) + 1, static_cast<std::size_t>(mark.column) + 1};
}

std::optional<YAML::Node> YamlFields::load(std::string_view what) {
  std::ifstream in(file_, std::ios::binary);
  if (!in) {
    error_file("cannot open file");
    return std::nullopt;
  }
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) {
    error_file("cannot read file");
    return std::nullopt;
  }
  return parse(text, what);
}

std::optional<YAML::Node> YamlFields::parse(std::string_view text, std::string_view what) {
  auto loaded = load_yaml(text, file_, what);
  if (auto* d = std::get_if<Diagnostic>(&loaded)) {
    add(std::move(*d));
    return std::nullopt;
  }
  return std::get<YAML::Node>(std::move(loaded));
}

void YamlFields::add(Diagnostic d) {
  if (d.is_error()) ++errors_;
  if (list_ != nullptr) {
    list_->push_back(std::move(d));
  } else if (d.is_error()) {
    collector_->error(d.location(), std::move(d.message));
  } else {
    collector_->warning(d.location(), std::move(d.message));
  }
}

void YamlFields::report(const YAML::Mark& at, Diagnostic::Severity severity, std::string message) {
  const auto p = yaml_place(at);
  add({file_, p.line, p.column, severity, std::move(message)});
}

void YamlFields::error_file(std::string message) {
  add({file_, 0, 0, Diagnostic::Severity::error, std::move(message)});
}

std::string YamlFields::kind(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Map:
      return "a mapping";
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Scalar:
      return "\"" + node.Scalar() + "\"";
    case YAML::NodeType::Null:
      return "nothing";
    default:
      return "an undefined value";
  }
}

bool YamlFields::expect_map(const YAML::Node& node, std::string_view what) {
  if (node.IsMap()) return true;
  error(node, std::string(what) + ": expected a mapping, found " + kind(node));
  return false;
}

bool YamlFields::expect_map(const YAML::Node& node, std::string_view what,
                            std::initializer_list<std::string_view> allowed) {
  if (!expect_map(node, what)) return false;
  known_keys(node, what, allowed);
  return true;
}

bool YamlFields::known_keys(const YAML::Node& map, std::string_view what, std::span<const std::string_view> allowed) {
  bool ok = true;
  for (auto it = map.begin(); it != map.end(); ++it) {
    const YAML::Node key_node = it->first;  // by value: it-> is a proxy
    if (!key_node.IsScalar()) {
      error(key_node, std::string(what) + ": keys must be strings");
      ok = false;
      continue;
    }
    const std::string& key = key_node.Scalar();
    if (std::find(allowed.begin(), allowed.end(), key) != allowed.end()) continue;
    std::string list;
    for (auto a : allowed) list += (list.empty() ? "" : ", ") + std::string(a);
    error(key_node, "unknown key '" + key + "' in " + std::string(what) + " (expected one of: " + list + ")");
    ok = false;
  }
  return ok;
}

bool YamlFields::expect_sequence(const YAML::Node& node, std::string_view what) {
  if (node.IsSequence()) return true;
  error(node, std::string(what) + ": expected a list, found " + kind(node));
  return false;
}

YAML::Node YamlFields::required(const YAML::Node& parent, const std::string& key, std::string_view what) {
  YAML::Node n = parent[key];  // parent is const: operator[] does not insert the key it probes for
  if (!n) error(parent, std::string(what) + ": missing required key '" + key + "'");
  return n;
}

std::optional<std::string> YamlFields::string(const YAML::Node& node, std::string_view what) {
  if (node.IsScalar()) return node.Scalar();
  error(node, std::string(what) + ": expected a string, found " + kind(node));
  return std::nullopt;
}

std::optional<bool> YamlFields::boolean(const YAML::Node& node, std::string_view what) {
  if (node.IsScalar()) {
    const auto& s = node.Scalar();
    if (s == "true" || s == "yes" || s == "on") return true;
    if (s == "false" || s == "no" || s == "off") return false;
  }
  error(node, std::string(what) + " must be true or false");
  return std::nullopt;
}

std::optional<std::int64_t> YamlFields::integer(const YAML::Node& node, std::string_view what, std::int64_t min,
                                                std::int64_t max) {
  std::int64_t v = 0;
  if (node.IsScalar()) {
    const auto& s = node.Scalar();
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec == std::errc{} && p == s.data() + s.size()) {
      if (v >= min && v <= max) return v;
      error(node, std::string(what) + " must be between " + std::to_string(min) + " and " + std::to_string(max));
      return std::nullopt;
    }
  }
  error(node, std::string(what) + " must be an integer");
  return std::nullopt;
}

std::optional<std::uint64_t> YamlFields::size(const YAML::Node& node, std::string_view what, std::uint64_t min,
                                              std::uint64_t max) {
  // Longer suffixes first so "KiB" is not read as "K" followed by junk.
  static constexpr std::array<std::pair<std::string_view, std::uint64_t>, 6> kUnits{{{"KiB", 1ULL << 10},
                                                                                     {"MiB", 1ULL << 20},
                                                                                     {"GiB", 1ULL << 30},
                                                                                     {"K", 1ULL << 10},
                                                                                     {"M", 1ULL << 20},
                                                                                     {"G", 1ULL << 30}}};
  if (node.IsScalar()) {
    std::string_view s = node.Scalar();
    std::uint64_t per = 1;
    for (auto [suffix, bytes] : kUnits) {
      if (s.size() > suffix.size() && s.ends_with(suffix)) {
        per = bytes;
        s.remove_suffix(suffix.size());
        break;
      }
    }
    std::uint64_t n = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
    if (ec == std::errc{} && p == s.data() + s.size() && !s.empty()) {
      if (n <= max / per && n * per >= min) return n * per;
      error(node,
            std::string(what) + " must be between " + std::to_string(min) + " and " + std::to_string(max) + " bytes");
      return std::nullopt;
    }
  }
  error(node, std::string(what) + " must be a size in bytes like 65536, 64KiB or 1MiB");
  return std::nullopt;
}

std::optional<Ipv4> YamlFields::ipv4(const YAML::Node& node, std::string_view what) {
  if (node.IsScalar())
    if (auto ip = Ipv4::parse(node.Scalar())) return ip;
  error(node, std::string(what) + " must be an IPv4 address like 10.0.0.1");
  return std::nullopt;
}

std::optional<Ipv4Subnet> YamlFields::subnet(const YAML::Node& node, std::string_view what) {
  if (node.IsScalar())
    if (auto s = Ipv4Subnet::parse(node.Scalar())) return s;
  error(node, std::string(what) + " must be a subnet like 10.0.0.0/24");
  return std::nullopt;
}

std::optional<MacAddress> YamlFields::mac(const YAML::Node& node, std::string_view what) {
  if (node.IsScalar())
    if (auto m = MacAddress::parse(node.Scalar())) return m;
  error(node, std::string(what) + " must be a MAC address like 52:54:00:12:34:56");
  return std::nullopt;
}

std::optional<std::chrono::seconds> YamlFields::duration(const YAML::Node& node, std::string_view what) {
  if (node.IsScalar()) {
    auto d = parse_duration(node.Scalar(), BareUnit::seconds);
    if (d && d->count() > 0 && d->count() % 1000 == 0) return std::chrono::duration_cast<std::chrono::seconds>(*d);
  }
  error(node,
        std::string(what) + " must be a positive duration in whole seconds like 3600, 90s, 30m, 12h, 7d or 1h30m");
  return std::nullopt;
}

std::optional<std::chrono::milliseconds> YamlFields::duration_ms(const YAML::Node& node, std::string_view what,
                                                                 BareUnit bare) {
  if (node.IsScalar()) {
    auto d = parse_duration(node.Scalar(), bare);
    if (d && d->count() > 0) return *d;
  }
  const char* bare_means = bare == BareUnit::milliseconds ? " (a bare number counts milliseconds)"
                           : bare == BareUnit::seconds    ? " (a bare number counts seconds)"
                                                          : "";
  error(node, std::string(what) + " must be a positive duration like 500ms, 10s, 2m or 1h30m" + bare_means);
  return std::nullopt;
}

}  // namespace ramfleet
