#include "inventory/facts.hpp"

#include <algorithm>
#include <cctype>

#include "core/hex.hpp"

namespace ramfleet::inventory {

std::string_view to_string(FactKey k) {
  switch (k) {
    case FactKey::mac:
      return "mac";
    case FactKey::uuid:
      return "uuid";
    case FactKey::hostname:
      return "hostname";
    case FactKey::serial:
      return "serial";
    case FactKey::arch:
      return "arch";
    case FactKey::platform:
      return "platform";
    case FactKey::manufacturer:
      return "manufacturer";
    case FactKey::product:
      return "product";
    case FactKey::buildarch:
      return "buildarch";
  }
  return "?";
}

std::optional<FactKey> fact_key_from_string(std::string_view s) {
  for (auto k : kAllFactKeys)
    if (to_string(k) == s) return k;
  return std::nullopt;
}

std::optional<std::string> MachineFacts::machine_id() const {
  // values[mac] holds mac->str() already (facts_from_params); formatting it again costs more than the lookup.
  if (const auto* m = get(FactKey::mac)) return *m;
  if (mac) return mac->str();
  if (const auto* u = get(FactKey::uuid)) return "uuid-" + *u;
  return std::nullopt;
}

std::optional<std::string> normalise_uuid(std::string_view text) {
  std::string hex;
  for (char c : text) {
    if (c == '-') continue;
    if (hex_value(c) < 0) return std::nullopt;
    hex.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  }
  if (hex.size() != 32) return std::nullopt;
  return hex.substr(0, 8) + "-" + hex.substr(8, 4) + "-" + hex.substr(12, 4) + "-" + hex.substr(16, 4) + "-" +
         hex.substr(20);
}

namespace {
constexpr std::size_t kMaxValue = 128;

bool safe_char(char c, bool allow_space) {
  auto u = static_cast<unsigned char>(c);
  if (u < 0x21 || u > 0x7e) return allow_space && c == ' ';
  return std::string_view("${}\"'\\`;&|<>").find(c) == std::string_view::npos;
}

bool safe_label_key(std::string_view k) {
  if (k.empty() || k.size() > 64) return false;
  return std::all_of(k.begin(), k.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.';
  });
}
}  // namespace

FactsResult facts_from_params(const std::vector<std::pair<std::string, std::string>>& params) {
  FactsResult r;
  for (const auto& [key, raw] : params) {
    if (raw.empty()) continue;  // iPXE expands unset settings to ""
    auto fk = fact_key_from_string(key);
    const bool spaces = fk && (*fk == FactKey::manufacturer || *fk == FactKey::product || *fk == FactKey::serial);
    if (raw.size() > kMaxValue) {
      r.errors.push_back({key, "value longer than 128 characters"});
      continue;
    }
    if (!std::all_of(raw.begin(), raw.end(), [&](char c) { return safe_char(c, spaces); })) {
      r.errors.push_back({key, "value contains characters not allowed in facts"});
      continue;
    }
    if (!fk) {
      if (!safe_label_key(key)) {
        r.errors.push_back({key, "label name must be 1-64 of [A-Za-z0-9_.-]"});
        continue;
      }
      r.facts.labels[key] = raw;
      continue;
    }
    std::string value = raw;
    if (*fk == FactKey::mac) {
      auto mac = MacAddress::parse(raw);
      if (!mac) {
        r.errors.push_back({key, "not a MAC address"});
        continue;
      }
      r.facts.mac = mac;
      value = mac->str();
    } else if (*fk == FactKey::uuid) {
      auto u = normalise_uuid(raw);
      if (!u) {
        r.errors.push_back({key, "not a UUID"});
        continue;
      }
      value = *u;
    } else if (*fk == FactKey::hostname || *fk == FactKey::arch || *fk == FactKey::platform ||
               *fk == FactKey::buildarch) {
      std::transform(value.begin(), value.end(), value.begin(),
                     [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    }
    r.facts.values[*fk] = std::move(value);
  }
  return r;
}

}  // namespace ramfleet::inventory
