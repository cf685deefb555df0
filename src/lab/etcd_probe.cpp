#include "lab/etcd_probe.hpp"

#include <nlohmann/json.hpp>
#include <sstream>

#include "lab/process.hpp"

namespace ramfleet::lab {
namespace {

// run_command merges stderr into stdout ("Error: unhealthy cluster" follows
// the JSON when a member is down): the JSON is the line that parses.
nlohmann::json json_line(const std::string& output) {
  std::istringstream in(output);
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || (line.front() != '[' && line.front() != '{')) continue;
    auto j = nlohmann::json::parse(line, nullptr, false);
    if (!j.is_discarded()) return j;
  }
  return nullptr;
}

bool names_ip(const std::string& url, const std::string& ip) {
  // https://IP:PORT: the address is between "//" and the last ':'.
  auto start = url.find("//");
  auto colon = url.rfind(':');
  if (start == std::string::npos || colon == std::string::npos || colon < start + 2) return false;
  return url.compare(start + 2, colon - start - 2, ip) == 0 && colon - start - 2 == ip.size();
}

bool any_names_ip(const nlohmann::json& urls, const std::string& ip) {
  if (!urls.is_array()) return false;
  for (const auto& u : urls)
    if (u.is_string() && names_ip(u.get<std::string>(), ip)) return true;
  return false;
}

}  // namespace

std::optional<EtcdClientCert> etcd_client_cert(const std::filesystem::path& state) {
  auto etcd = state / "pki" / "etcd";
  for (const char* name : {"ramfleet-client", "healthcheck-client"}) {
    EtcdClientCert c{etcd / "ca.crt", etcd / (std::string(name) + ".crt"), etcd / (std::string(name) + ".key")};
    if (std::filesystem::exists(c.ca) && std::filesystem::exists(c.cert) && std::filesystem::exists(c.key)) return c;
  }
  return std::nullopt;
}

std::vector<std::string> etcdctl_args(const std::vector<NodeSpec>& nodes, const EtcdClientCert& cert) {
  std::string endpoints;
  for (const auto& n : nodes) endpoints += (endpoints.empty() ? "" : ",") + ("https://" + n.ip + ":2379");
  return {"etcdctl",
          "--endpoints=" + endpoints,
          "--cacert=" + cert.ca.string(),
          "--cert=" + cert.cert.string(),
          "--key=" + cert.key.string(),
          "--dial-timeout=5s",
          "--command-timeout=10s"};
}

std::map<std::string, MemberView> parse_etcd_views(const std::vector<NodeSpec>& nodes, const std::string& member_list,
                                                   const std::string& endpoint_health) {
  std::map<std::string, MemberView> views;
  for (const auto& n : nodes) views[n.name];
  auto members = json_line(member_list);
  if (members.is_object() && members.contains("members") && members["members"].is_array()) {
    for (const auto& m : members["members"]) {
      if (!m.is_object()) continue;
      // By peer URL, not name: a member added (as a learner) that has not
      // started yet is listed without a name.
      for (const auto& n : nodes) {
        if (!any_names_ip(m.value("peerURLs", nlohmann::json::array()), n.ip)) continue;
        auto& v = views[n.name];
        v.listed = true;
        v.learner = m.value("isLearner", false);
        v.started = m.contains("clientURLs") && m["clientURLs"].is_array() && !m["clientURLs"].empty();
      }
    }
  }
  auto health = json_line(endpoint_health);
  if (health.is_array()) {
    for (const auto& h : health) {
      if (!h.is_object()) continue;
      for (const auto& n : nodes) {
        if (!names_ip(h.value("endpoint", ""), n.ip)) continue;
        auto& v = views[n.name];
        v.healthy = h.value("health", false);
        if (!v.healthy) v.error = h.value("error", "");
      }
    }
  }
  return views;
}

std::map<std::string, MemberView> probe_etcd(const std::vector<NodeSpec>& nodes, const EtcdClientCert& cert) {
  auto base = etcdctl_args(nodes, cert);
  auto list = base;
  list.insert(list.end(), {"member", "list", "-w", "json"});
  auto health = base;
  health.insert(health.end(), {"endpoint", "health", "-w", "json"});
  auto l = run_command(list, std::chrono::seconds{30});
  auto h = run_command(health, std::chrono::seconds{30});
  return parse_etcd_views(nodes, l.output, h.output);
}

}  // namespace ramfleet::lab
