#include "config/spec_version.hpp"

#include <array>
#include <charconv>

namespace ramfleet::config {

namespace {
struct Mapping {
  std::string_view variant;
  std::string_view version;
  IgnitionSpec spec;
};
// From Butane's spec table (verified against coreos.github.io/butane/specs).
constexpr std::array kMappings{
    Mapping{"fcos", "1.0.0", {3, 0, 0}}, Mapping{"fcos", "1.1.0", {3, 1, 0}},    Mapping{"fcos", "1.2.0", {3, 2, 0}},
    Mapping{"fcos", "1.3.0", {3, 2, 0}}, Mapping{"fcos", "1.4.0", {3, 3, 0}},    Mapping{"fcos", "1.5.0", {3, 4, 0}},
    Mapping{"fcos", "1.6.0", {3, 5, 0}}, Mapping{"flatcar", "1.0.0", {3, 3, 0}}, Mapping{"flatcar", "1.1.0", {3, 4, 0}},
};

std::optional<int> parse_int(std::string_view s) {
  int v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || p != s.data() + s.size() || s.empty()) return std::nullopt;
  return v;
}
}  // namespace

std::optional<IgnitionSpec> IgnitionSpec::parse(std::string_view text) {
  auto dot1 = text.find('.');
  if (dot1 == std::string_view::npos) return std::nullopt;
  auto dot2 = text.find('.', dot1 + 1);
  if (dot2 == std::string_view::npos) return std::nullopt;
  auto a = parse_int(text.substr(0, dot1));
  auto b = parse_int(text.substr(dot1 + 1, dot2 - dot1 - 1));
  auto c = parse_int(text.substr(dot2 + 1));
  if (!a || !b || !c) return std::nullopt;
  return IgnitionSpec{*a, *b, *c};
}

std::string IgnitionSpec::str() const {
  return std::to_string(major) + "." + std::to_string(minor) + "." + std::to_string(patch);
}

bool supported_ignition_spec(const IgnitionSpec& spec) {
  return spec.major == 3 && spec.minor >= 0 && spec.minor <= 5 && spec.patch == 0;
}

std::optional<IgnitionSpec> ignition_spec_for(std::string_view variant, std::string_view version) {
  for (const auto& m : kMappings) {
    if (m.variant == variant && m.version == version) return m.spec;
  }
  return std::nullopt;
}

std::string supported_butane_versions() {
  std::string out;
  std::string_view last;
  for (const auto& m : kMappings) {
    if (m.variant != last) {
      if (!out.empty()) out += "; ";
      out += std::string(m.variant) + " ";
      last = m.variant;
    } else {
      out += ", ";
    }
    out += m.version;
  }
  return out;
}

}  // namespace ramfleet::config
