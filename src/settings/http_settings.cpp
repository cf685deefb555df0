#include "settings/http_settings.hpp"

#include <algorithm>
#include <array>
#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "core/duration.hpp"

namespace ramfleet::settings {
namespace {

constexpr std::uint64_t kMaxNumber = 100'000'000;  // the bound http.yaml always had

enum class Kind { count, bytes, duration };

// Every limit of http::HttpSettings, by its key in ramfleet.yaml's http: and
// in the old http.yaml.
struct Field {
  std::string_view key;
  std::string_view legacy_key;
  Kind kind;
};
constexpr std::array kFields{
    Field{"max_connections", "max_connections", Kind::count},
    Field{"max_connections_per_ip", "max_connections_per_ip", Kind::count},
    Field{"max_header_bytes", "max_header_bytes", Kind::bytes},
    Field{"max_body_bytes", "max_body_bytes", Kind::bytes},
    Field{"request_timeout", "request_timeout_ms", Kind::duration},
    Field{"idle_timeout", "idle_timeout_ms", Kind::duration},
    Field{"min_send_rate", "min_send_rate", Kind::bytes},
    Field{"send_window", "send_window_ms", Kind::duration},
    Field{"send_window", "send_timeout_ms", Kind::duration},  // send_window_ms's older name
    Field{"reload_interval", "reload_interval_ms", Kind::duration},
    Field{"max_file_transfers", "max_file_transfers", Kind::count},
    Field{"retry_after", "retry_after", Kind::duration},
    Field{"boot_token_ttl", "boot_token_ttl_ms", Kind::duration},
    Field{"boot_token_rate_per_min", "boot_token_rate_per_min", Kind::count},
    Field{"boot_token_burst", "boot_token_burst", Kind::count},
    Field{"identity_queue", "identity_queue", Kind::count},
};
constexpr std::int64_t kMaxIdentityWorkers = 256;

struct Value {
  std::uint64_t number = 0;
  std::chrono::milliseconds duration{};
  [[nodiscard]] std::string str(Kind kind) const {
    return kind == Kind::duration ? format_duration(duration) : std::to_string(number);
  }
};

std::optional<Value> read_value(YamlFields& y, const YAML::Node& node, Kind kind, std::string_view what,
                                BareUnit bare) {
  Value v;
  switch (kind) {
    case Kind::count: {
      auto n = y.integer(node, what, 1, static_cast<std::int64_t>(kMaxNumber));
      if (!n) return std::nullopt;
      v.number = static_cast<std::uint64_t>(*n);
      return v;
    }
    case Kind::bytes: {
      auto n = y.size(node, what, 1, kMaxNumber);
      if (!n) return std::nullopt;
      v.number = *n;
      return v;
    }
    case Kind::duration: {
      auto d = y.duration_ms(node, what, bare);
      if (!d) return std::nullopt;
      v.duration = *d;
      return v;
    }
  }
  return std::nullopt;
}

void store(std::string_view key, const Value& v, http::HttpSettings& h) {
  const auto n = static_cast<std::size_t>(v.number);
  if (key == "max_connections") h.limits.max_connections = n;
  if (key == "max_connections_per_ip") h.limits.max_connections_per_ip = n;
  if (key == "max_header_bytes") h.limits.max_header_bytes = n;
  if (key == "max_body_bytes") h.limits.max_body_bytes = n;
  if (key == "request_timeout") h.limits.request_timeout = v.duration;
  if (key == "idle_timeout") h.limits.idle_timeout = v.duration;
  if (key == "min_send_rate") h.limits.min_send_rate = v.number;
  if (key == "send_window") h.limits.send_window = v.duration;
  if (key == "reload_interval") h.reload_interval = v.duration;
  if (key == "max_file_transfers") h.limits.max_file_transfers = n;
  if (key == "retry_after") h.limits.retry_after = v.duration;
  if (key == "boot_token_ttl") h.boot_token_ttl = v.duration;
  if (key == "boot_token_rate_per_min") h.boot_token_rate_per_min = static_cast<double>(v.number);
  if (key == "boot_token_burst") h.boot_token_burst = static_cast<double>(v.number);
  if (key == "identity_queue") h.identity_queue = n;
}

const Field* find_field(std::string_view key, bool legacy) {
  for (const auto& f : kFields)
    if ((legacy ? f.legacy_key : f.key) == key) return &f;
  return nullptr;
}

}  // namespace

void read_http_section(YamlFields& y, const YAML::Node& node, http::HttpSettings& into) {
  static const std::vector<std::string_view> kKeys = [] {
    std::vector<std::string_view> keys{"enabled", "port", "identity_workers"};
    for (const auto& f : kFields)
      if (std::find(keys.begin(), keys.end(), f.key) == keys.end()) keys.push_back(f.key);
    return keys;
  }();
  if (!y.expect_map(node, "http")) return;
  y.known_keys(node, "http", kKeys);
  if (auto e = node["enabled"]) into.enabled = y.boolean(e, "http.enabled").value_or(into.enabled);
  if (auto p = node["port"])
    if (auto v = y.integer(p, "http.port", 1, 65535)) into.port = static_cast<std::uint16_t>(*v);
  // 0 is a value here (inline on the loop), unlike the counts of kFields.
  if (auto w = node["identity_workers"])
    if (auto v = y.integer(w, "http.identity_workers", 0, kMaxIdentityWorkers))
      into.identity_workers = static_cast<std::size_t>(*v);
  for (const auto& kv : node) {
    const YAML::Node key = kv.first;
    const Field* f = key.IsScalar() ? find_field(key.Scalar(), false) : nullptr;
    if (f == nullptr) continue;
    if (auto v = read_value(y, kv.second, f->kind, "http." + key.Scalar(), BareUnit::seconds)) store(f->key, *v, into);
  }
}

void apply_legacy_http_file(const std::filesystem::path& config_dir, http::HttpSettings& into, Diagnostics& out) {
  static const std::vector<std::string_view> kLegacyKeys = [] {
    std::vector<std::string_view> keys;
    keys.reserve(kFields.size());
    for (const auto& f : kFields) keys.push_back(f.legacy_key);
    return keys;
  }();
  const auto path = config_dir / kLegacyHttpFileName;
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return;
  Diagnostics local;
  YamlFields y(path.string(), local);
  http::HttpSettings s = into;
  if (auto doc = y.load(); doc && !doc->IsNull() && y.expect_map(*doc, kLegacyHttpFileName)) {
    y.known_keys(*doc, kLegacyHttpFileName, kLegacyKeys);
    for (const auto& kv : *doc) {
      const YAML::Node key = kv.first;
      const Field* f = key.IsScalar() ? find_field(key.Scalar(), true) : nullptr;
      if (f == nullptr) continue;
      // The *_ms keys keep counting bare numbers in milliseconds.
      auto v = read_value(y, kv.second, f->kind, key.Scalar(), BareUnit::milliseconds);
      if (!v) continue;
      store(f->key, *v, s);
      y.warning(key, "http.yaml is replaced by ramfleet.yaml's http: section: move '" + key.Scalar() + ": " +
                         kv.second.Scalar() + "' there as '" + std::string(f->key) + ": " + v->str(f->kind) + "'");
    }
  }
  const bool failed = has_errors(local);
  out.insert(out.end(), local.begin(), local.end());
  if (!failed) into = std::move(s);
}

}  // namespace ramfleet::settings
