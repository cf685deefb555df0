#include "http/route_label.hpp"

namespace ramfleet::http {

RouteLabel route_label(Method method, std::string_view target) {
  const auto path = target.substr(0, target.find_first_of("?#"));
  // The first segment, and whether anything follows it.
  const auto rest = path.starts_with('/') ? path.substr(1) : path;
  const auto slash = rest.find('/');
  const auto first = rest.substr(0, slash);
  if (first == "boot.ipxe") return RouteLabel::boot_ipxe;
  if (first == "ipxe") return RouteLabel::ipxe;
  if (first == "ignition" || first == "cloud-config" || first == "apkovl") return RouteLabel::config;
  if (first == "assets") return RouteLabel::assets;
  if (first == "etcd") return RouteLabel::etcd;
  if (first == "healthz") return RouteLabel::healthz;
  if (first == "metrics") return RouteLabel::metrics;
  if (first == "ui") return RouteLabel::ui;
  if (first == "api") {
    return method == Method::post && path.ends_with("/events") ? RouteLabel::events : RouteLabel::api;
  }
  return RouteLabel::other;
}

std::string_view to_string(RouteLabel label) {
  static constexpr std::array<std::string_view, kRouteLabels> kNames{
      "boot_ipxe", "ipxe", "config", "assets", "etcd", "healthz", "events", "api", "metrics", "ui", "other"};
  return kNames[static_cast<std::size_t>(label)];
}

}  // namespace ramfleet::http
