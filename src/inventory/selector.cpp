#include "inventory/selector.hpp"

#include <algorithm>
#include <cctype>

#include "core/hex.hpp"
#include "inventory/glob.hpp"

namespace ramfleet::inventory {

std::string Specificity::str() const {
  return "identity=" + std::to_string(identity) + ",narrow=" + std::to_string(narrow) +
         ",class=" + std::to_string(klass) + ",literal=" + std::to_string(literal);
}

std::string Constraint::key_name() const {
  return kind == Kind::label ? "labels." + label : std::string(to_string(fact));
}

bool Constraint::matches(const MachineFacts& f) const {
  const std::string* v = kind == Kind::label ? f.label(label) : f.get(fact);
  return v != nullptr && glob_match(pattern, *v);
}

namespace {
Specificity compute(const std::vector<Constraint>& cs) {
  Specificity s;
  for (const auto& c : cs) {
    const bool glob = is_glob(c.pattern);
    s.literal += glob_literal_count(c.pattern);
    if (c.kind == Constraint::Kind::label) {
      ++s.narrow;
      continue;
    }
    switch (c.fact) {
      case FactKey::mac:
      case FactKey::uuid:
      case FactKey::serial:
        ++(glob ? s.narrow : s.identity);
        break;
      case FactKey::hostname:
        ++s.narrow;
        break;
      case FactKey::arch:
      case FactKey::platform:
      case FactKey::buildarch:
      case FactKey::manufacturer:
      case FactKey::product:
        ++s.klass;
        break;
    }
  }
  return s;
}
}  // namespace

Selector::Selector(std::vector<Constraint> constraints) : constraints_(std::move(constraints)) {
  specificity_ = compute(constraints_);
}

bool Selector::matches(const MachineFacts& f) const {
  return std::all_of(constraints_.begin(), constraints_.end(), [&](const Constraint& c) { return c.matches(f); });
}

bool Selector::may_overlap(const Selector& other) const {
  for (const auto& a : constraints_) {
    for (const auto& b : other.constraints_) {
      if (a.kind != b.kind || (a.kind == Constraint::Kind::fact ? a.fact != b.fact : a.label != b.label)) continue;
      if (!glob_intersects(a.pattern, b.pattern)) return false;
    }
  }
  return true;
}

std::string Selector::str() const {
  if (constraints_.empty()) return "(any)";
  std::string out;
  for (const auto& c : constraints_) {
    if (!out.empty()) out.push_back(' ');
    out += c.key_name() + "=" + c.pattern;
  }
  return out;
}

PatternResult normalise_pattern(FactKey key, std::string_view value) {
  PatternResult r;
  if (value.empty()) {
    r.error = "empty selector value";
    return r;
  }
  std::string v(value);
  if (key == FactKey::mac || key == FactKey::uuid || key == FactKey::hostname || key == FactKey::arch ||
      key == FactKey::platform || key == FactKey::buildarch) {
    std::transform(v.begin(), v.end(), v.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  }
  if (key == FactKey::mac) {
    std::replace(v.begin(), v.end(), '-', ':');
    if (!is_glob(v)) {
      auto mac = MacAddress::parse(v);
      if (!mac) {
        r.error = "'" + std::string(value) + "' is not a MAC address (or a pattern such as 52:54:00:*)";
        return r;
      }
      v = mac->str();
    } else {
      for (char c : v) {
        if (!(hex_value(c) >= 0 || c == ':' || c == '*' || c == '?')) {
          r.error = "MAC pattern '" + std::string(value) + "' may only hold hex digits, ':', '*' and '?'";
          return r;
        }
      }
    }
  } else if (key == FactKey::uuid && !is_glob(v)) {
    auto u = normalise_uuid(v);
    if (!u) {
      r.error = "'" + std::string(value) + "' is not a UUID";
      return r;
    }
    v = *u;
  }
  r.pattern = std::move(v);
  return r;
}

}  // namespace ramfleet::inventory
