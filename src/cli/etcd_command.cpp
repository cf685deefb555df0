// `ramfleet etcd status`: what GET /api/v1/etcd says, for a terminal: the
// members and their health, the leader, the last snapshot and the RPO, and the
// membership service's recent decisions with their reasons.
#include <iomanip>
#include <iostream>
#include <memory>
#include <sstream>

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
  auto server = std::make_shared<std::string>("127.0.0.1:80");
  auto as_json = std::make_shared<bool>(false);
  status->add_option("--server", *server, "ramfleet serve's HTTP address HOST:PORT (default 127.0.0.1:80)");
  status->add_flag("--json", *as_json, "print the API's JSON as is");
  commands.emplace_back(status, [server, as_json] {
    const auto colon = server->rfind(':');
    const std::string host = colon == std::string::npos ? *server : server->substr(0, colon);
    int port = 80;
    if (colon != std::string::npos) {
      std::istringstream in(server->substr(colon + 1));
      if (!(in >> port) || port <= 0 || port > 65535) {
        std::cerr << "ramfleet etcd status: --server must be HOST:PORT\n";
        return 2;
      }
    }
    const auto r = net::http_get(host, port, "/api/v1/etcd", 5000);
    if (!r) {
      std::cerr << "ramfleet etcd status: no answer from http://" << *server << "/api/v1/etcd\n";
      return 1;
    }
    if (r->status != 200) {
      std::cerr << "ramfleet etcd status: HTTP " << r->status << ": " << r->body;
      return 1;
    }
    json s;
    try {
      s = json::parse(r->body);
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
