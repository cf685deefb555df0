#include "kube/cluster_spec.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <charconv>
#include <set>
#include <tuple>

#include "core/duration.hpp"
#include "core/yaml_syntax.hpp"
#include "kube/names.hpp"
#include "kube/secret_files.hpp"

namespace ramfleet::kube {

namespace fs = std::filesystem;

std::string_view to_string(Distribution d) { return d == Distribution::kubeadm ? "kubeadm" : "k3s"; }
std::string_view to_string(Role r) { return r == Role::control_plane ? "control-plane" : "worker"; }
std::string_view to_string(EtcdMode m) { return m == EtcdMode::stacked ? "stacked" : "ramfleet"; }

namespace {

std::optional<int> parse_int(std::string_view s) {
  int v = 0;
  if (s.empty() || s.size() > 6) return std::nullopt;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || p != s.data() + s.size()) return std::nullopt;
  return v;
}

}  // namespace

std::optional<KubernetesVersion> KubernetesVersion::parse(std::string_view text) {
  KubernetesVersion v;
  v.text = std::string(text);
  std::string_view s = text;
  if (s.starts_with('v')) s.remove_prefix(1);
  if (const auto plus = s.find('+'); plus != std::string_view::npos) s = s.substr(0, plus);  // k3s: v1.29.4+k3s1
  int* parts[] = {&v.major, &v.minor, &v.patch};
  for (int i = 0; i < 3; ++i) {
    auto dot = s.find('.');
    auto part = i < 2 ? s.substr(0, dot) : s;
    auto n = parse_int(part);
    if (!n || (i < 2 && dot == std::string_view::npos)) return std::nullopt;
    *parts[i] = *n;
    if (i < 2) s.remove_prefix(dot + 1);
  }
  if (v.major != 1) return std::nullopt;
  return v;
}

std::optional<Endpoint> Endpoint::parse(std::string_view text) {
  Endpoint e;
  auto colon = text.rfind(':');
  if (colon != std::string_view::npos) {
    auto port = parse_int(text.substr(colon + 1));
    if (!port || *port < 1 || *port > 65535) return std::nullopt;
    e.port = static_cast<std::uint16_t>(*port);
    text = text.substr(0, colon);
  }
  e.host = std::string(text);
  if (!Ipv4::parse(e.host) && !is_dns_subdomain(e.host)) return std::nullopt;
  return e;
}

std::vector<Role> ClusterSpec::roles_for(const MachineFacts& machine, const SelectorMatcher& matcher) const {
  std::vector<Role> roles;
  if (any_matches(control_plane, machine, matcher)) roles.push_back(Role::control_plane);
  if (any_matches(workers, machine, matcher)) roles.push_back(Role::worker);
  return roles;
}

namespace {

// Walks the YAML tree, turning every structural problem into a diagnostic at
// the offending node, and fills a ClusterSpec from what is well-formed.
class SpecReader {
 public:
  SpecReader(std::string file, Diagnostics& out) : file_(std::move(file)), out_(out) {}

  void error(const YAML::Mark& mark, std::string message) {
    Diagnostic d;
    d.file = file_;
    if (mark.line >= 0) {
      d.line = static_cast<std::size_t>(mark.line) + 1;
      d.column = static_cast<std::size_t>(mark.column) + 1;
    }
    d.message = std::move(message);
    out_.push_back(std::move(d));
  }

  bool is_map(const YAML::Node& n, std::string_view what) {
    if (n.IsMap()) return true;
    error(n.Mark(), std::string(what) + ": expected a mapping, found " + kind(n));
    return false;
  }
  bool is_seq(const YAML::Node& n, std::string_view what) {
    if (n.IsSequence()) return true;
    error(n.Mark(), std::string(what) + ": expected a list, found " + kind(n));
    return false;
  }
  std::optional<std::string> scalar(const YAML::Node& n, std::string_view what) {
    if (n.IsScalar()) return n.Scalar();
    error(n.Mark(), std::string(what) + ": expected a string, found " + kind(n));
    return std::nullopt;
  }
  // Reports keys not in allowed, pointing at the key itself.
  void known_keys(const YAML::Node& map, std::initializer_list<std::string_view> allowed, std::string_view where) {
    for (auto it = map.begin(); it != map.end(); ++it) {
      if (!it->first.IsScalar()) {
        error(it->first.Mark(), std::string(where) + ": keys must be strings");
        continue;
      }
      const std::string& key = it->first.Scalar();
      if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
        std::string list;
        for (auto a : allowed) list += (list.empty() ? "" : ", ") + std::string(a);
        error(it->first.Mark(),
              "unknown key \"" + key + "\" in " + std::string(where) + " (expected one of: " + list + ")");
      }
    }
  }

  static std::string kind(const YAML::Node& n) {
    switch (n.Type()) {
      case YAML::NodeType::Map:
        return "a mapping";
      case YAML::NodeType::Sequence:
        return "a list";
      case YAML::NodeType::Scalar:
        return "\"" + n.Scalar() + "\"";
      case YAML::NodeType::Null:
        return "nothing";
      default:
        return "an undefined value";
    }
  }

  const std::string& file() const { return file_; }

 private:
  std::string file_;
  Diagnostics& out_;
};

bool overlaps(const Ipv4Subnet& a, const Ipv4Subnet& b) {
  const int prefix = std::min(a.prefix, b.prefix);
  const Ipv4Subnet wider{a.network, prefix};
  return wider.contains(b.network) || Ipv4Subnet{b.network, prefix}.contains(a.network);
}

std::optional<Ipv4Subnet> parse_cidr(SpecReader& r, const YAML::Node& n, std::string_view what) {
  auto text = r.scalar(n, what);
  if (!text) return std::nullopt;
  auto subnet = Ipv4Subnet::parse(*text);
  if (!subnet) {
    r.error(n.Mark(), std::string(what) + ": \"" + *text + "\" is not an IPv4 CIDR like 10.96.0.0/12");
    return std::nullopt;
  }
  // Ipv4Subnet::parse masks the address; a written address with host bits is
  // usually a typo worth pointing out.
  if (Ipv4::parse(std::string_view(*text).substr(0, text->find('/'))) != subnet->network) {
    r.error(n.Mark(), std::string(what) + ": \"" + *text + "\" has host bits set; did you mean " + subnet->str() + "?");
    return std::nullopt;
  }
  return subnet;
}

std::optional<Selector> parse_selector(SpecReader& r, const YAML::Node& n, const std::string& where) {
  if (!r.is_map(n, where)) return std::nullopt;
  r.known_keys(n, {"mac", "hostname", "labels"}, where);
  Selector s;
  bool ok = true;
  if (const auto mac = n["mac"]) {
    if (const auto text = r.scalar(mac, where + ".mac")) {
      s.mac = MacAddress::parse(*text);
      if (!s.mac) {
        r.error(mac.Mark(), where + ".mac: \"" + *text + "\" is not a MAC address like 52:54:00:12:34:56");
        ok = false;
      }
    } else {
      ok = false;
    }
  }
  if (const auto host = n["hostname"]) {
    if (const auto text = r.scalar(host, where + ".hostname")) {
      if (!is_dns_subdomain(*text)) {
        r.error(host.Mark(), where + ".hostname: \"" + *text + "\" is not a lowercase DNS name");
        ok = false;
      }
      s.hostname = *text;
    } else {
      ok = false;
    }
  }
  if (const auto labels = n["labels"]) {
    if (r.is_map(labels, where + ".labels")) {
      for (auto it = labels.begin(); it != labels.end(); ++it) {
        auto k = r.scalar(it->first, where + ".labels key");
        auto v = r.scalar(it->second, where + ".labels value");
        if (k && v)
          s.labels[*k] = *v;
        else
          ok = false;
      }
    } else {
      ok = false;
    }
  }
  if (ok && s.empty()) {
    r.error(n.Mark(), where + ": an empty selector would match every machine; give mac, hostname or labels");
    ok = false;
  }
  return ok ? std::optional<Selector>(std::move(s)) : std::nullopt;
}

void parse_role(SpecReader& r, const YAML::Node& n, const std::string& where, std::vector<Selector>& out) {
  if (!r.is_seq(n, where)) return;
  for (std::size_t i = 0; i < n.size(); ++i) {
    if (const auto s = parse_selector(r, n[i], where + "[" + std::to_string(i) + "]")) out.push_back(std::move(*s));
  }
}

// etcd.mode and etcd.snapshot.{interval,keep} (docs/etcd.md).
void parse_etcd_options(SpecReader& r, const YAML::Node& etcd, EtcdOptions& out) {
  if (const auto n = etcd["mode"]) {
    if (const auto s = r.scalar(n, "etcd.mode")) {
      if (*s == "stacked")
        out.mode = EtcdMode::stacked;
      else if (*s == "ramfleet")
        out.mode = EtcdMode::ramfleet;
      else
        r.error(n.Mark(), "etcd.mode: \"" + *s + "\" is not one of: stacked, ramfleet");
    }
  }
  const auto snap = etcd["snapshot"];
  if (!snap || !r.is_map(snap, "etcd.snapshot")) return;
  r.known_keys(snap, {"interval", "keep"}, "etcd.snapshot");
  if (const auto n = snap["interval"]) {
    if (const auto s = r.scalar(n, "etcd.snapshot.interval")) {
      const auto d = parse_duration(*s);
      if (!d || *d < std::chrono::seconds(10))
        r.error(n.Mark(), "etcd.snapshot.interval: \"" + *s + "\" is not a duration of at least 10s (like 5m)");
      else
        out.snapshot_interval = *d;
    }
  }
  if (const auto n = snap["keep"]) {
    if (const auto s = r.scalar(n, "etcd.snapshot.keep")) {
      const auto k = parse_int(*s);
      if (!k || *k < 1 || *k > 1000)
        r.error(n.Mark(), "etcd.snapshot.keep: \"" + *s + "\" is not a number from 1 to 1000");
      else
        out.snapshot_keep = static_cast<unsigned>(*k);
    }
  }
}

struct Marks {
  YAML::Mark root, endpoint, pod, service, members, roles, cert_sans;
  bool have_cert_sans = false;
};

}  // namespace

SpecResult parse_cluster_spec(std::string_view yaml, const std::string& file_name) {
  SpecResult result;
  SpecReader r(file_name, result.diagnostics);
  auto loaded = load_yaml(yaml, file_name, "YAML syntax");
  if (auto* d = std::get_if<Diagnostic>(&loaded)) {
    result.diagnostics.push_back(std::move(*d));
    return result;
  }
  // const: yaml-cpp's non-const operator[] would insert the keys we probe for.
  const YAML::Node root = std::get<YAML::Node>(loaded);
  if (!r.is_map(root, "cluster spec")) return result;
  r.known_keys(root,
               {"name", "kubernetesVersion", "distribution", "controlPlaneEndpoint", "networking", "apiServer", "etcd",
                "roles", "registryMirrors", "pki"},
               "cluster spec");

  ClusterSpec spec;
  Marks marks;
  marks.root = root.Mark();
  auto required = [&](const YAML::Node& parent, const char* key, const std::string& where) -> YAML::Node {
    YAML::Node n = parent[key];
    if (!n) r.error(parent.Mark(), where + ": missing required key \"" + key + "\"");
    return n;
  };

  if (const auto n = required(root, "name", "cluster spec")) {
    if (const auto s = r.scalar(n, "name")) {
      if (!is_dns_label(*s))
        r.error(n.Mark(), "name: \"" + *s + "\" must be a lowercase DNS label ([a-z0-9-], at most 63)");
      spec.name = *s;
    }
  }
  if (const auto n = required(root, "kubernetesVersion", "cluster spec")) {
    if (const auto s = r.scalar(n, "kubernetesVersion")) {
      if (const auto v = KubernetesVersion::parse(*s))
        spec.kubernetes_version = *v;
      else
        r.error(n.Mark(), "kubernetesVersion: \"" + *s + "\" is not a version like v1.29.4");
    }
  }
  if (const auto n = required(root, "distribution", "cluster spec")) {
    if (const auto s = r.scalar(n, "distribution")) {
      if (*s == "kubeadm")
        spec.distribution = Distribution::kubeadm;
      else if (*s == "k3s")
        spec.distribution = Distribution::k3s;
      else
        r.error(n.Mark(), "distribution: \"" + *s + "\" is not one of: kubeadm, k3s");
    }
  }
  if (const auto n = required(root, "controlPlaneEndpoint", "cluster spec")) {
    marks.endpoint = n.Mark();
    if (const auto s = r.scalar(n, "controlPlaneEndpoint")) {
      if (const auto e = Endpoint::parse(*s))
        spec.control_plane_endpoint = *e;
      else
        r.error(n.Mark(), "controlPlaneEndpoint: \"" + *s + "\" is not HOST[:PORT] (DNS name or IPv4, port 1-65535)");
    }
  }

  // Defaults follow each distribution's own.
  const bool k3s = spec.distribution == Distribution::k3s;
  spec.pod_subnet = *Ipv4Subnet::parse(k3s ? "10.42.0.0/16" : "10.244.0.0/16");
  spec.service_subnet = *Ipv4Subnet::parse(k3s ? "10.43.0.0/16" : "10.96.0.0/12");
  marks.pod = marks.service = root.Mark();
  if (const auto net = root["networking"]) {
    if (r.is_map(net, "networking")) {
      r.known_keys(net, {"podSubnet", "serviceSubnet", "dnsDomain"}, "networking");
      if (const auto n = net["podSubnet"]) {
        marks.pod = n.Mark();
        if (const auto s = parse_cidr(r, n, "networking.podSubnet")) spec.pod_subnet = *s;
      }
      if (const auto n = net["serviceSubnet"]) {
        marks.service = n.Mark();
        if (const auto s = parse_cidr(r, n, "networking.serviceSubnet")) {
          spec.service_subnet = *s;
          // kube-apiserver refuses service ranges wider than 2^20 addresses.
          if (s->prefix < 12)
            r.error(n.Mark(),
                    "networking.serviceSubnet: " + s->str() + " is wider than /12, which kube-apiserver refuses");
          if (s->prefix > 30)
            r.error(n.Mark(), "networking.serviceSubnet: " + s->str() + " leaves no room for services");
        }
      }
      if (const auto n = net["dnsDomain"]) {
        if (const auto s = r.scalar(n, "networking.dnsDomain")) {
          if (!is_dns_subdomain(*s)) r.error(n.Mark(), "networking.dnsDomain: \"" + *s + "\" is not a DNS name");
          spec.dns_domain = *s;
        }
      }
    }
  }

  if (const auto api = root["apiServer"]) {
    if (r.is_map(api, "apiServer")) {
      r.known_keys(api, {"certSANs"}, "apiServer");
      if (const auto sans = api["certSANs"]; sans && r.is_seq(sans, "apiServer.certSANs")) {
        marks.cert_sans = sans.Mark();
        marks.have_cert_sans = true;
        for (std::size_t i = 0; i < sans.size(); ++i) {
          auto s = r.scalar(sans[i], "apiServer.certSANs[" + std::to_string(i) + "]");
          if (!s) continue;
          if (!Ipv4::parse(*s) && !is_san_dns_name(*s)) {
            r.error(sans[i].Mark(), "apiServer.certSANs: \"" + *s + "\" is neither an IPv4 address nor a DNS name");
            continue;
          }
          spec.cert_sans.push_back(*s);
        }
      }
    }
  }

  marks.members = root.Mark();
  if (const auto etcd = required(root, "etcd", "cluster spec"); etcd && r.is_map(etcd, "etcd")) {
    r.known_keys(etcd, {"members", "mode", "snapshot"}, "etcd");
    parse_etcd_options(r, etcd, spec.etcd);
    if (const auto members = required(etcd, "members", "etcd"); members && r.is_seq(members, "etcd.members")) {
      marks.members = members.Mark();
      std::set<std::string> names;
      std::set<Ipv4> ips;
      for (std::size_t i = 0; i < members.size(); ++i) {
        const std::string where = "etcd.members[" + std::to_string(i) + "]";
        const YAML::Node m = members[i];
        if (!r.is_map(m, where)) continue;
        r.known_keys(m, {"name", "ip"}, where);
        EtcdMember member;
        bool ok = true;
        if (const auto n = required(m, "name", where)) {
          auto s = r.scalar(n, where + ".name");
          if (s && !is_dns_subdomain(*s)) {
            r.error(n.Mark(), where + ".name: \"" + *s + "\" is not a lowercase DNS name");
            ok = false;
          } else if (s && !names.insert(*s).second) {
            r.error(n.Mark(), where + ".name: \"" + *s + "\" is listed twice");
            ok = false;
          }
          if (s) member.name = *s;
          ok = ok && s.has_value();
        } else {
          ok = false;
        }
        if (const auto n = required(m, "ip", where)) {
          auto s = r.scalar(n, where + ".ip");
          auto ip = s ? Ipv4::parse(*s) : std::nullopt;
          if (s && !ip)
            r.error(n.Mark(), where + ".ip: \"" + *s + "\" is not an IPv4 address");
          else if (ip && !ips.insert(*ip).second)
            r.error(n.Mark(), where + ".ip: " + *s + " is listed twice");
          else if (ip && (spec.pod_subnet.contains(*ip) || spec.service_subnet.contains(*ip)))
            r.error(n.Mark(), where + ".ip: " + *s + " lies inside the pod or service subnet");
          if (ip) member.ip = *ip;
          ok = ok && ip.has_value();
        } else {
          ok = false;
        }
        if (ok) spec.etcd_members.push_back(std::move(member));
      }
      // Quorum is a majority: 2 members tolerate no more failures than 1, 4 no
      // more than 3, and an even split can leave no side with a majority.
      if (members.size() == 0)
        r.error(members.Mark(), "etcd.members: at least one member is needed");
      else if (members.size() % 2 == 0)
        r.error(members.Mark(), "etcd.members: " + std::to_string(members.size()) +
                                    " members is an even number; use an odd number (1, 3, 5) so a quorum survives "
                                    "a partition");
    }
  }

  marks.roles = root.Mark();
  if (const auto roles = root["roles"]; roles && r.is_map(roles, "roles")) {
    marks.roles = roles.Mark();
    r.known_keys(roles, {"control-plane", "worker"}, "roles");
    if (const auto cp = roles["control-plane"]) parse_role(r, cp, "roles.control-plane", spec.control_plane);
    if (const auto w = roles["worker"]) parse_role(r, w, "roles.worker", spec.workers);
  }
  if (spec.control_plane.empty()) {
    const bool written = root["roles"] && root["roles"].IsMap() && root["roles"]["control-plane"];
    if (!written || root["roles"]["control-plane"].size() == 0)
      r.error(marks.roles, "roles.control-plane: no machine selector; the cluster would have no control plane");
  }

  if (const auto mirrors = root["registryMirrors"]; mirrors && r.is_map(mirrors, "registryMirrors")) {
    for (auto it = mirrors.begin(); it != mirrors.end(); ++it) {
      auto registry = r.scalar(it->first, "registryMirrors key");
      if (!registry) continue;
      const std::string where = "registryMirrors." + *registry;
      if (!is_dns_subdomain(*registry) && *registry != "*") {
        // Registries may carry a port (mirror.lab:5000).
        auto e = Endpoint::parse(*registry);
        if (!e) r.error(it->first.Mark(), where + ": \"" + *registry + "\" is not a registry host name");
      }
      RegistryMirror m{*registry, {}};
      if (!r.is_seq(it->second, where)) continue;
      for (std::size_t i = 0; i < it->second.size(); ++i) {
        auto url = r.scalar(it->second[i], where + "[" + std::to_string(i) + "]");
        if (!url) continue;
        if (!url->starts_with("http://") && !url->starts_with("https://")) {
          r.error(it->second[i].Mark(), where + ": \"" + *url + "\" must be an http:// or https:// URL");
          continue;
        }
        m.endpoints.push_back(*url);
      }
      spec.registry_mirrors.push_back(std::move(m));
    }
  }

  if (const auto pki = root["pki"]; pki && r.is_map(pki, "pki")) {
    r.known_keys(pki, {"keyAlgorithm"}, "pki");
    if (const auto n = pki["keyAlgorithm"]) {
      if (const auto s = r.scalar(n, "pki.keyAlgorithm")) {
        if (*s == "rsa-2048")
          spec.key_algorithm = KeyAlgorithm::rsa2048;
        else if (*s == "ecdsa-p256")
          spec.key_algorithm = KeyAlgorithm::ecdsa_p256;
        else
          r.error(n.Mark(), "pki.keyAlgorithm: \"" + *s + "\" is not one of: rsa-2048, ecdsa-p256");
      }
    }
  }

  // Cross-field checks.
  if (overlaps(spec.pod_subnet, spec.service_subnet)) {
    r.error(marks.service, "networking.serviceSubnet " + spec.service_subnet.str() + " overlaps networking.podSubnet " +
                               spec.pod_subnet.str());
  }
  const Endpoint& ep = spec.control_plane_endpoint;
  if (!ep.host.empty()) {
    if (const auto ip = Ipv4::parse(ep.host);
        ip && (spec.pod_subnet.contains(*ip) || spec.service_subnet.contains(*ip))) {
      r.error(marks.endpoint, "controlPlaneEndpoint: " + ep.host + " lies inside the pod or service subnet");
    }
    // When the operator lists the apiserver's external names, the endpoint
    // nodes and kubectl dial must be one of them, or TLS verification fails.
    if (marks.have_cert_sans &&
        std::find(spec.cert_sans.begin(), spec.cert_sans.end(), ep.host) == spec.cert_sans.end()) {
      r.error(marks.endpoint, "controlPlaneEndpoint: host \"" + ep.host + "\" is not in apiServer.certSANs (line " +
                                  std::to_string(marks.cert_sans.line + 1) +
                                  "); clients would reject the apiserver certificate");
    }
  }

  std::stable_sort(result.diagnostics.begin(), result.diagnostics.end(), [](const Diagnostic& a, const Diagnostic& b) {
    return std::tie(a.line, a.column) < std::tie(b.line, b.column);
  });
  if (!has_errors(result.diagnostics)) result.spec = std::move(spec);
  return result;
}

SpecResult load_cluster_spec(const fs::path& file) {
  auto text = read_file(file);
  if (!text) {
    SpecResult result;
    Diagnostic d;
    d.file = file.string();
    d.message = "cannot read the cluster spec";
    result.diagnostics.push_back(d);
    return result;
  }
  return parse_cluster_spec(*text, file.string());
}

Diagnostics validate_cluster_spec(const fs::path& config_dir_or_file) {
  fs::path file = config_dir_or_file;
  if (fs::is_directory(file)) {
    file /= kClusterSpecFile;
    if (!fs::exists(file)) return {};
  }
  return load_cluster_spec(file).diagnostics;
}

}  // namespace ramfleet::kube
