#include "kube/cluster_spec.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <charconv>
#include <set>
#include <tuple>

#include "core/duration.hpp"
#include "core/yaml_fields.hpp"
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

std::vector<Role> ClusterSpec::roles_for(const MachineView& machine, const SelectorMatcher& matcher) const {
  std::vector<Role> roles;
  if (any_matches(control_plane, machine, matcher)) roles.push_back(Role::control_plane);
  if (any_matches(workers, machine, matcher)) roles.push_back(Role::worker);
  return roles;
}

namespace {

bool overlaps(const Ipv4Subnet& a, const Ipv4Subnet& b) {
  const int prefix = std::min(a.prefix, b.prefix);
  const Ipv4Subnet wider{a.network, prefix};
  return wider.contains(b.network) || Ipv4Subnet{b.network, prefix}.contains(a.network);
}

std::optional<Ipv4Subnet> parse_cidr(YamlFields& y, const YAML::Node& n, std::string_view what) {
  auto text = y.string(n, what);
  if (!text) return std::nullopt;
  auto subnet = Ipv4Subnet::parse(*text);
  if (!subnet) {
    y.error(n, std::string(what) + ": \"" + *text + "\" is not an IPv4 CIDR like 10.96.0.0/12");
    return std::nullopt;
  }
  // Ipv4Subnet::parse masks the address; a written address with host bits is
  // usually a typo worth pointing out.
  if (Ipv4::parse(std::string_view(*text).substr(0, text->find('/'))) != subnet->network) {
    y.error(n, std::string(what) + ": \"" + *text + "\" has host bits set; did you mean " + subnet->str() + "?");
    return std::nullopt;
  }
  return subnet;
}

std::optional<Selector> parse_selector(YamlFields& y, const YAML::Node& n, const std::string& where) {
  if (!y.expect_map(n, where, {"mac", "hostname", "labels"})) return std::nullopt;
  Selector s;
  bool ok = true;
  if (const auto mac = n["mac"]) {
    if (const auto text = y.string(mac, where + ".mac")) {
      s.mac = MacAddress::parse(*text);
      if (!s.mac) {
        y.error(mac, where + ".mac: \"" + *text + "\" is not a MAC address like 52:54:00:12:34:56");
        ok = false;
      }
    } else {
      ok = false;
    }
  }
  if (const auto host = n["hostname"]) {
    if (const auto text = y.string(host, where + ".hostname")) {
      if (!is_dns_subdomain(*text)) {
        y.error(host, where + ".hostname: \"" + *text + "\" is not a lowercase DNS name");
        ok = false;
      }
      s.hostname = *text;
    } else {
      ok = false;
    }
  }
  if (const auto labels = n["labels"]) {
    if (y.expect_map(labels, where + ".labels")) {
      for (auto it = labels.begin(); it != labels.end(); ++it) {
        auto k = y.string(it->first, where + ".labels key");
        auto v = y.string(it->second, where + ".labels value");
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
    y.error(n, where + ": an empty selector would match every machine; give mac, hostname or labels");
    ok = false;
  }
  return ok ? std::optional<Selector>(std::move(s)) : std::nullopt;
}

void parse_role(YamlFields& y, const YAML::Node& n, const std::string& where, std::vector<Selector>& out) {
  if (!y.expect_sequence(n, where)) return;
  for (std::size_t i = 0; i < n.size(); ++i) {
    if (const auto s = parse_selector(y, n[i], where + "[" + std::to_string(i) + "]")) out.push_back(std::move(*s));
  }
}

// Where the fields the cross-field checks talk about were written.
struct Marks {
  YAML::Mark endpoint, service, cert_sans;
  bool have_cert_sans = false;
};

// Reads cluster.yaml section by section into one ClusterSpec; each step
// reports its own mistakes and fills what is well-formed.
class SpecParser {
 public:
  SpecParser(YamlFields& y, const YAML::Node& root) : y_(y), root_(root) {}

  ClusterSpec run() {
    y_.known_keys(root_, "cluster spec",
                  {"name", "kubernetesVersion", "distribution", "controlPlaneEndpoint", "networking", "apiServer",
                   "etcd", "roles", "registryMirrors", "pki"});
    read_identity();
    read_networking();  // after the distribution: its defaults depend on it
    read_api_server();
    read_etcd();  // after networking: members must lie outside the pod and service subnets
    read_roles();
    read_registry_mirrors();
    read_pki();
    check_cross_fields();
    return std::move(spec_);
  }

 private:
  void read_identity() {
    if (const auto n = y_.required(root_, "name", "cluster spec")) {
      if (const auto s = y_.string(n, "name")) {
        if (!is_dns_label(*s))
          y_.error(n, "name: \"" + *s + "\" must be a lowercase DNS label ([a-z0-9-], at most 63)");
        spec_.name = *s;
      }
    }
    if (const auto n = y_.required(root_, "kubernetesVersion", "cluster spec")) {
      if (const auto s = y_.string(n, "kubernetesVersion")) {
        if (const auto v = KubernetesVersion::parse(*s))
          spec_.kubernetes_version = *v;
        else
          y_.error(n, "kubernetesVersion: \"" + *s + "\" is not a version like v1.29.4");
      }
    }
    if (const auto n = y_.required(root_, "distribution", "cluster spec")) {
      if (const auto d = y_.one_of<Distribution>(n, "distribution",
                                                 {{"kubeadm", Distribution::kubeadm}, {"k3s", Distribution::k3s}}))
        spec_.distribution = *d;
    }
    if (const auto n = y_.required(root_, "controlPlaneEndpoint", "cluster spec")) {
      marks_.endpoint = n.Mark();
      if (const auto s = y_.string(n, "controlPlaneEndpoint")) {
        if (const auto e = Endpoint::parse(*s))
          spec_.control_plane_endpoint = *e;
        else
          y_.error(n, "controlPlaneEndpoint: \"" + *s + "\" is not HOST[:PORT] (DNS name or IPv4, port 1-65535)");
      }
    }
  }

  void read_networking() {
    // Defaults follow each distribution's own.
    const bool k3s = spec_.distribution == Distribution::k3s;
    spec_.pod_subnet = *Ipv4Subnet::parse(k3s ? "10.42.0.0/16" : "10.244.0.0/16");
    spec_.service_subnet = *Ipv4Subnet::parse(k3s ? "10.43.0.0/16" : "10.96.0.0/12");
    marks_.service = root_.Mark();
    const auto net = root_["networking"];
    if (!net || !y_.expect_map(net, "networking", {"podSubnet", "serviceSubnet", "dnsDomain"})) return;
    if (const auto n = net["podSubnet"]) {
      if (const auto s = parse_cidr(y_, n, "networking.podSubnet")) spec_.pod_subnet = *s;
    }
    if (const auto n = net["serviceSubnet"]) {
      marks_.service = n.Mark();
      if (const auto s = parse_cidr(y_, n, "networking.serviceSubnet")) {
        spec_.service_subnet = *s;
        // kube-apiserver refuses service ranges wider than 2^20 addresses.
        if (s->prefix < 12)
          y_.error(n, "networking.serviceSubnet: " + s->str() + " is wider than /12, which kube-apiserver refuses");
        if (s->prefix > 30) y_.error(n, "networking.serviceSubnet: " + s->str() + " leaves no room for services");
      }
    }
    if (const auto n = net["dnsDomain"]) {
      if (const auto s = y_.string(n, "networking.dnsDomain")) {
        if (!is_dns_subdomain(*s)) y_.error(n, "networking.dnsDomain: \"" + *s + "\" is not a DNS name");
        spec_.dns_domain = *s;
      }
    }
  }

  void read_api_server() {
    const auto api = root_["apiServer"];
    if (!api || !y_.expect_map(api, "apiServer", {"certSANs"})) return;
    const auto sans = api["certSANs"];
    if (!sans || !y_.expect_sequence(sans, "apiServer.certSANs")) return;
    marks_.cert_sans = sans.Mark();
    marks_.have_cert_sans = true;
    for (std::size_t i = 0; i < sans.size(); ++i) {
      auto s = y_.string(sans[i], "apiServer.certSANs[" + std::to_string(i) + "]");
      if (!s) continue;
      if (!Ipv4::parse(*s) && !is_san_dns_name(*s)) {
        y_.error(sans[i], "apiServer.certSANs: \"" + *s + "\" is neither an IPv4 address nor a DNS name");
        continue;
      }
      spec_.cert_sans.push_back(*s);
    }
  }

  void read_etcd() {
    const auto etcd = y_.required(root_, "etcd", "cluster spec");
    if (!etcd || !y_.expect_map(etcd, "etcd", {"members", "mode", "snapshot"})) return;
    read_etcd_options(etcd);
    const auto members = y_.required(etcd, "members", "etcd");
    if (!members || !y_.expect_sequence(members, "etcd.members")) return;
    std::set<std::string> names;
    std::set<Ipv4> ips;
    for (std::size_t i = 0; i < members.size(); ++i) {
      if (auto m = read_etcd_member(members[i], "etcd.members[" + std::to_string(i) + "]", names, ips))
        spec_.etcd_members.push_back(std::move(*m));
    }
    // Quorum is a majority: 2 members tolerate no more failures than 1, 4 no
    // more than 3, and an even split can leave no side with a majority.
    if (members.size() == 0)
      y_.error(members, "etcd.members: at least one member is needed");
    else if (members.size() % 2 == 0)
      y_.error(members, "etcd.members: " + std::to_string(members.size()) +
                            " members is an even number; use an odd number (1, 3, 5) so a quorum survives "
                            "a partition");
  }

  // etcd.mode and etcd.snapshot.{interval,keep} (docs/etcd.md).
  void read_etcd_options(const YAML::Node& etcd) {
    EtcdOptions& out = spec_.etcd;
    if (const auto n = etcd["mode"]) {
      if (const auto m =
              y_.one_of<EtcdMode>(n, "etcd.mode", {{"stacked", EtcdMode::stacked}, {"ramfleet", EtcdMode::ramfleet}}))
        out.mode = *m;
    }
    const auto snap = etcd["snapshot"];
    if (!snap || !y_.expect_map(snap, "etcd.snapshot", {"interval", "keep"})) return;
    if (const auto n = snap["interval"]) {
      if (const auto s = y_.string(n, "etcd.snapshot.interval")) {
        const auto d = parse_duration(*s);
        if (!d || *d < std::chrono::seconds(10))
          y_.error(n, "etcd.snapshot.interval: \"" + *s + "\" is not a duration of at least 10s (like 5m)");
        else
          out.snapshot_interval = *d;
      }
    }
    if (const auto n = snap["keep"]) {
      if (const auto s = y_.string(n, "etcd.snapshot.keep")) {
        const auto k = parse_int(*s);
        if (!k || *k < 1 || *k > 1000)
          y_.error(n, "etcd.snapshot.keep: \"" + *s + "\" is not a number from 1 to 1000");
        else
          out.snapshot_keep = static_cast<unsigned>(*k);
      }
    }
  }

  std::optional<EtcdMember> read_etcd_member(const YAML::Node& m, const std::string& where,
                                             std::set<std::string>& names, std::set<Ipv4>& ips) {
    if (!y_.expect_map(m, where, {"name", "ip"})) return std::nullopt;
    EtcdMember member;
    bool ok = true;
    if (const auto n = y_.required(m, "name", where)) {
      auto s = y_.string(n, where + ".name");
      if (s && !is_dns_subdomain(*s)) {
        y_.error(n, where + ".name: \"" + *s + "\" is not a lowercase DNS name");
        ok = false;
      } else if (s && !names.insert(*s).second) {
        y_.error(n, where + ".name: \"" + *s + "\" is listed twice");
        ok = false;
      }
      if (s) member.name = *s;
      ok = ok && s.has_value();
    } else {
      ok = false;
    }
    if (const auto n = y_.required(m, "ip", where)) {
      auto s = y_.string(n, where + ".ip");
      auto ip = s ? Ipv4::parse(*s) : std::nullopt;
      if (s && !ip)
        y_.error(n, where + ".ip: \"" + *s + "\" is not an IPv4 address");
      else if (ip && !ips.insert(*ip).second)
        y_.error(n, where + ".ip: " + *s + " is listed twice");
      else if (ip && (spec_.pod_subnet.contains(*ip) || spec_.service_subnet.contains(*ip)))
        y_.error(n, where + ".ip: " + *s + " lies inside the pod or service subnet");
      if (ip) member.ip = *ip;
      ok = ok && ip.has_value();
    } else {
      ok = false;
    }
    return ok ? std::optional<EtcdMember>(std::move(member)) : std::nullopt;
  }

  void read_roles() {
    YAML::Mark at = root_.Mark();
    const auto roles = root_["roles"];
    if (roles && y_.expect_map(roles, "roles", {"control-plane", "worker"})) {
      at = roles.Mark();
      if (const auto cp = roles["control-plane"]) parse_role(y_, cp, "roles.control-plane", spec_.control_plane);
      if (const auto w = roles["worker"]) parse_role(y_, w, "roles.worker", spec_.workers);
    }
    if (spec_.control_plane.empty()) {
      const bool written = roles && roles.IsMap() && roles["control-plane"];
      if (!written || roles["control-plane"].size() == 0)
        y_.error(at, "roles.control-plane: no machine selector; the cluster would have no control plane");
    }
  }

  void read_registry_mirrors() {
    const auto mirrors = root_["registryMirrors"];
    if (!mirrors || !y_.expect_map(mirrors, "registryMirrors")) return;
    for (auto it = mirrors.begin(); it != mirrors.end(); ++it) {
      auto registry = y_.string(it->first, "registryMirrors key");
      if (!registry) continue;
      const std::string where = "registryMirrors." + *registry;
      // Registries may carry a port (mirror.lab:5000).
      if (!is_dns_subdomain(*registry) && *registry != "*" && !Endpoint::parse(*registry))
        y_.error(it->first, where + ": \"" + *registry + "\" is not a registry host name");
      RegistryMirror m{*registry, {}};
      const YAML::Node urls = it->second;
      if (!y_.expect_sequence(urls, where)) continue;
      for (std::size_t i = 0; i < urls.size(); ++i) {
        auto url = y_.string(urls[i], where + "[" + std::to_string(i) + "]");
        if (!url) continue;
        if (!url->starts_with("http://") && !url->starts_with("https://")) {
          y_.error(urls[i], where + ": \"" + *url + "\" must be an http:// or https:// URL");
          continue;
        }
        m.endpoints.push_back(*url);
      }
      spec_.registry_mirrors.push_back(std::move(m));
    }
  }

  void read_pki() {
    const auto pki = root_["pki"];
    if (!pki || !y_.expect_map(pki, "pki", {"keyAlgorithm"})) return;
    if (const auto n = pki["keyAlgorithm"]) {
      if (const auto a = y_.one_of<KeyAlgorithm>(
              n, "pki.keyAlgorithm", {{"rsa-2048", KeyAlgorithm::rsa2048}, {"ecdsa-p256", KeyAlgorithm::ecdsa_p256}}))
        spec_.key_algorithm = *a;
    }
  }

  // Checks across sections, once every section is read.
  void check_cross_fields() {
    if (overlaps(spec_.pod_subnet, spec_.service_subnet)) {
      y_.error(marks_.service, "networking.serviceSubnet " + spec_.service_subnet.str() +
                                   " overlaps networking.podSubnet " + spec_.pod_subnet.str());
    }
    const Endpoint& ep = spec_.control_plane_endpoint;
    if (ep.host.empty()) return;
    if (const auto ip = Ipv4::parse(ep.host);
        ip && (spec_.pod_subnet.contains(*ip) || spec_.service_subnet.contains(*ip))) {
      y_.error(marks_.endpoint, "controlPlaneEndpoint: " + ep.host + " lies inside the pod or service subnet");
    }
    // When the operator lists the apiserver's external names, the endpoint
    // nodes and kubectl dial must be one of them, or TLS verification fails.
    if (marks_.have_cert_sans &&
        std::find(spec_.cert_sans.begin(), spec_.cert_sans.end(), ep.host) == spec_.cert_sans.end()) {
      y_.error(marks_.endpoint, "controlPlaneEndpoint: host \"" + ep.host + "\" is not in apiServer.certSANs (line " +
                                    std::to_string(marks_.cert_sans.line + 1) +
                                    "); clients would reject the apiserver certificate");
    }
  }

  YamlFields& y_;
  // const: yaml-cpp's non-const operator[] would insert the keys we probe for.
  const YAML::Node root_;
  ClusterSpec spec_;
  Marks marks_;
};

}  // namespace

SpecResult parse_cluster_spec(std::string_view yaml, const std::string& file_name) {
  SpecResult result;
  YamlFields y(file_name, result.diagnostics);
  const auto root = y.parse(yaml, "YAML syntax");
  if (!root || !y.expect_map(*root, "cluster spec")) return result;
  ClusterSpec spec = SpecParser(y, *root).run();
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
