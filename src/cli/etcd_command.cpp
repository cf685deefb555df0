// `ramfleet etcd status`: what GET /api/v1/etcd says, for a terminal: the
// members and their health, the leader, the last snapshot and the RPO, and the
// membership service's recent decisions with their reasons.
#include <iomanip>
#include <iostream>
#include <memory>
#include <sstream>

#include "cli/api_options.hpp"
#include "cli/commands.hpp"
#include "net/api_client.hpp"

namespace ramfleet::cli {

namespace {
using json = nlohmann::json;

std::string text(const json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return "-";
  return it->is_string() ? it->get<std::string>() : it->dump();
}

int print_status(const json& s) {
  std::cout << "leader: " << text(s, "leader") << "   quorum: " << s["quorum"].value("healthy_voters", 0) << "/"
            << s["quorum"].value("voters", 0) << " voting members answer (" << s["quorum"].value("needed", 0)
            << " needed) " << (s["quorum"].value("ok", false) ? "ok" : "NO QUORUM")
            << "   formed: " << (s.value("formed", false) ? "yes" : "no") << "\n";
  if (!s["cold_start_seed"].is_null())
    std::cout << "cold start in progress: seed " << text(s, "cold_start_seed") << "\n";
  std::cout << "\n"
            << std::left << std::setw(18) << "MEMBER" << std::setw(18) << "ID" << std::setw(9) << "ROLE" << std::setw(9)
            << "HEALTHY" << std::setw(10) << "REVISION"
            << "PEER URL\n";
  for (const auto& m : s["members"]) {
    const std::string role = m.value("leader", false) ? "leader" : m.value("learner", false) ? "learner" : "voter";
    std::cout << std::setw(18) << (m.value("name", "").empty() ? "(unstarted)" : m.value("name", "")) << std::setw(18)
              << text(m, "id") << std::setw(9) << role << std::setw(9) << (m.value("healthy", false) ? "yes" : "no")
              << std::setw(10) << text(m, "revision")
              << (m["peer_urls"].empty() ? "-" : m["peer_urls"][0].get<std::string>()) << "\n";
  }
  const auto& snap = s["snapshots"];
  std::cout << "\nsnapshots: " << snap.value("count", 0) << " kept (every " << text(snap, "interval") << ", keep "
            << text(snap, "keep") << ")";
  if (snap["last"].is_object()) {
    std::cout << "; last: revision " << text(snap["last"], "revision") << ", " << text(snap["last"], "size")
              << " bytes, " << text(snap["last"], "age_s") << " s ago (" << text(snap["last"], "file") << ")";
  }
  std::cout << "\n";
  if (!snap.value("last_error", "").empty()) std::cout << "last snapshot error: " << text(snap, "last_error") << "\n";
  std::cout << "RPO: " << text(s, "rpo") << "\n\nrecent decisions (oldest first):\n";
  for (const auto& a : s["actions"]) {
    std::cout << "  " << text(a, "at_ms") << "  " << std::setw(26) << text(a, "action") << std::setw(10)
              << (a.value("member", "").empty() ? "-" : a.value("member", "")) << text(a, "reason") << "\n";
  }
  return 0;
}

void add_etcd_command(CLI::App& app, CommandTable& commands) {
  auto* etcd = app.add_subcommand("etcd", "The etcd cluster ramfleet keeps (cluster.yaml etcd.mode: ramfleet)");
  etcd->require_subcommand(1);
  auto* status = etcd->add_subcommand("status", "Members, health, leader, snapshots, RPO, recent decisions");
  auto api = std::make_shared<ApiOptions>();
  auto as_json = std::make_shared<bool>(false);
  add_api_options(status, *api);
  status->add_flag("--json", *as_json, "print the API's JSON as is");
  commands.emplace_back(status, [api, as_json] {
    std::string why;
    auto endpoint = resolve_endpoint(*api, why);
    if (!endpoint) {
      std::cerr << "ramfleet etcd status: " << why << "\n";
      return 2;
    }
    const auto r = net::api_request(*endpoint, "GET", "/api/v1/etcd");
    if (!r.answered()) {
      std::cerr << "ramfleet etcd status: no answer from " << endpoint->url << "/api/v1/etcd: " << r.error << "\n";
      return 1;
    }
    if (r.status != 200) {
      std::cerr << "ramfleet etcd status: HTTP " << r.status << ": " << r.body;
      return 1;
    }
    json s;
    try {
      s = json::parse(r.body);
    } catch (const json::exception& e) {
      std::cerr << "ramfleet etcd status: not JSON: " << e.what() << "\n";
      return 1;
    }
    if (*as_json) {
      std::cout << s.dump(2) << "\n";
      return 0;
    }
    return print_status(s);
  });
}
const CommandRegistration kRegistration{56, add_etcd_command};
}  // namespace

}  // namespace ramfleet::cli
