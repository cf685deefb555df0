#include "http/settings.hpp"

#include <yaml-cpp/yaml.h>

namespace ramfleet::http {

void apply_http_file(const std::filesystem::path& config_dir, HttpSettings& into, Diagnostics& out) {
  const auto path = config_dir / kHttpFileName;
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return;
  const std::string file = path.string();
  YAML::Node doc;
  try {
    doc = YAML::LoadFile(file);
  } catch (const YAML::ParserException& e) {
    out.push_back({file, static_cast<std::size_t>(e.mark.line) + 1, static_cast<std::size_t>(e.mark.column) + 1,
                   Diagnostic::Severity::error, "invalid YAML: " + e.msg});
    return;
  } catch (const YAML::Exception& e) {
    out.push_back({file, 0, 0, Diagnostic::Severity::error, std::string("cannot read: ") + e.what()});
    return;
  }
  if (doc.IsNull()) return;
  auto err = [&](const YAML::Node& n, std::string msg) {
    auto m = n.Mark();
    out.push_back({file, static_cast<std::size_t>(m.line) + 1, static_cast<std::size_t>(m.column) + 1,
                   Diagnostic::Severity::error, std::move(msg)});
  };
  if (!doc.IsMap()) {
    err(doc, "http.yaml must be a mapping");
    return;
  }
  HttpSettings s = into;
  bool ok = true;
  for (const auto& kv : doc) {
    const auto key = kv.first.Scalar();
    long long v = 0;
    try {
      v = kv.second.as<long long>();
    } catch (const YAML::Exception&) {
      err(kv.second, key + " must be an integer");
      ok = false;
      continue;
    }
    if (v <= 0 || v > 100'000'000) {
      err(kv.second, key + " must be between 1 and 100000000");
      ok = false;
      continue;
    }
    auto n = static_cast<std::size_t>(v);
    auto ms = std::chrono::milliseconds(v);
    if (key == "max_connections")
      s.limits.max_connections = n;
    else if (key == "max_connections_per_ip")
      s.limits.max_connections_per_ip = n;
    else if (key == "min_send_rate")
      s.limits.min_send_rate = n;
    else if (key == "max_header_bytes")
      s.limits.max_header_bytes = n;
    else if (key == "max_body_bytes")
      s.limits.max_body_bytes = n;
    else if (key == "request_timeout_ms")
      s.limits.request_timeout = ms;
    else if (key == "idle_timeout_ms")
      s.limits.idle_timeout = ms;
    else if (key == "send_window_ms" || key == "send_timeout_ms")  // send_timeout_ms: the old name
      s.limits.send_window = ms;
    else if (key == "reload_interval_ms")
      s.reload_interval = ms;
    else if (key == "boot_token_ttl_ms")
      s.boot_token_ttl = ms;
    else if (key == "boot_token_rate_per_min")
      s.boot_token_rate_per_min = static_cast<double>(v);
    else if (key == "boot_token_burst")
      s.boot_token_burst = static_cast<double>(v);
    else {
      err(kv.first, "unknown key '" + key +
                        "' (expected max_connections, max_connections_per_ip, max_header_bytes, max_body_bytes, "
                        "request_timeout_ms, idle_timeout_ms, min_send_rate, send_window_ms, reload_interval_ms, "
                        "boot_token_ttl_ms, boot_token_rate_per_min, boot_token_burst)");
      ok = false;
    }
  }
  if (ok) into = s;
}

}  // namespace ramfleet::http
