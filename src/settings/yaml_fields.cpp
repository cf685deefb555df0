#include "settings/yaml_fields.hpp"

#include <charconv>
#include <fstream>
#include <sstream>

#include "core/duration.hpp"
#include "core/yaml_syntax.hpp"

namespace ramfleet::settings {

std::optional<YAML::Node> YamlFields::load() {
  std::ifstream in(file_);
  if (!in) {
    out_.push_back({file_, 0, 0, Diagnostic::Severity::error, "cannot open file"});
    return std::nullopt;
  }
  std::stringstream text;
  text << in.rdbuf();
  auto loaded = load_yaml(text.str(), file_);
  if (auto* d = std::get_if<Diagnostic>(&loaded)) {
    out_.push_back(std::move(*d));
    return std::nullopt;
  }
  return std::get<YAML::Node>(std::move(loaded));
}

void YamlFields::error(const YAML::Mark& at, std::string message) {
  Diagnostic d{file_, 0, 0, Diagnostic::Severity::error, std::move(message)};
  if (!at.is_null()) {
    d.line = static_cast<std::size_t>(at.line) + 1;
    d.column = static_cast<std::size_t>(at.column) + 1;
  }
  out_.push_back(std::move(d));
}

void YamlFields::error(const YAML::Node& at, std::string message) { error(at.Mark(), std::move(message)); }

bool YamlFields::expect_map(const YAML::Node& node, std::string_view what,
                            std::initializer_list<std::string_view> allowed) {
  if (!node.IsMap()) {
    error(node, std::string(what) + " must be a mapping");
    return false;
  }
  for (const auto& kv : node) {
    auto key = kv.first.Scalar();
    bool known = false;
    for (auto a : allowed) known = known || a == key;
    if (!known) {
      std::string hint;
      for (auto a : allowed) hint += (hint.empty() ? "" : ", ") + std::string(a);
      error(kv.first, "unknown key '" + key + "' in " + std::string(what) + " (expected one of: " + hint + ")");
    }
  }
  return true;
}

bool YamlFields::expect_sequence(const YAML::Node& node, std::string_view what) {
  if (!node.IsSequence()) {
    error(node, std::string(what) + " must be a list");
    return false;
  }
  return true;
}

std::optional<std::string> YamlFields::string(const YAML::Node& node, std::string_view what) {
  if (!node.IsScalar()) {
    error(node, std::string(what) + " must be a string");
    return std::nullopt;
  }
  return node.Scalar();
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

}  // namespace ramfleet::settings
