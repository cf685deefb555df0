#include "kube/names.hpp"

namespace ramfleet::kube {

namespace {
bool is_lower_alnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }
}  // namespace

bool is_dns_label(std::string_view s) {
  if (s.empty() || s.size() > 63) return false;
  if (!is_lower_alnum(s.front()) || !is_lower_alnum(s.back())) return false;
  for (char c : s)
    if (!is_lower_alnum(c) && c != '-') return false;
  return true;
}

bool is_dns_subdomain(std::string_view s) {
  if (s.empty() || s.size() > 253) return false;
  std::size_t start = 0;
  while (true) {
    std::size_t dot = s.find('.', start);
    if (!is_dns_label(s.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start)))
      return false;
    if (dot == std::string_view::npos) return true;
    start = dot + 1;
  }
}

bool is_san_dns_name(std::string_view s) {
  if (s.starts_with("*.")) s.remove_prefix(2);
  return is_dns_subdomain(s);
}

}  // namespace ramfleet::kube

namespace ramfleet::kube {

namespace {
std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

// Whether a certificate issued for SAN `san` would also be valid for `name`
// (RFC 6125: a wildcard stands for exactly one whole left-most label).
bool san_covers(std::string_view san, std::string_view name) {
  const std::string s = lower(san);
  if (s == name) return true;
  if (!s.starts_with("*.")) return false;
  const auto dot = name.find('.');
  return dot != std::string_view::npos && name.substr(dot + 1) == std::string_view(s).substr(2);
}
}  // namespace

std::optional<std::string> node_name_refusal(const ClusterSpec& spec, std::string_view name, Role role) {
  const std::string quoted = "node name \"" + std::string(name) + "\"";
  if (!is_dns_subdomain(name))
    return quoted + " is not a lowercase DNS name ([a-z0-9-] labels separated by '.', at most 253 characters)";
  if (Ipv4::parse(name)) return quoted + " is an IPv4 address";
  if (name.starts_with("kubernetes"))
    return quoted + " starts with \"kubernetes\", the name of the API server's in-cluster Service";
  if (lower(spec.control_plane_endpoint.host) == name) return quoted + " is the controlPlaneEndpoint host";
  for (const auto& san : spec.cert_sans)
    if (san_covers(san, name)) return quoted + " is covered by apiServer.certSANs entry \"" + san + "\"";
  if (role == Role::worker)
    for (const auto& m : spec.etcd_members)
      if (m.name == name) return quoted + " is etcd member " + m.name + "'s name and this node is a worker";
  return std::nullopt;
}

}  // namespace ramfleet::kube
