#include "lab/lab_state.hpp"

#include <unistd.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <stdexcept>

namespace ramfleet::lab {
namespace {

nlohmann::json to_json(const ProcessRef& p) { return {{"pid", p.pid}, {"start_time", p.start_time}, {"what", p.what}}; }
ProcessRef process_from(const nlohmann::json& j) {
  return {j.value("pid", 0), j.value("start_time", 0ULL), j.value("what", "")};
}

}  // namespace

std::filesystem::path state_file(const std::filesystem::path& dir) { return dir / "lab.json"; }

void save_state(const LabState& s) {
  nlohmann::json j;
  j["namespace"] = s.ns;
  j["dir"] = s.dir.string();
  j["server_ip"] = s.server_ip;
  j["http_port"] = s.http_port;
  j["cluster"] = s.cluster;
  if (s.serve) j["serve"] = to_json(*s.serve);
  j["vms"] = nlohmann::json::array();
  for (const auto& v : s.vms) j["vms"].push_back(to_json(v));
  j["vm_argv"] = s.vm_argv;
  j["nodes"] = nlohmann::json::array();
  for (const auto& n : s.nodes)
    j["nodes"].push_back({{"name", n.name}, {"mac", n.mac}, {"ip", n.ip}, {"tap", n.tap}, {"firmware", n.firmware}});
  auto path = state_file(s.dir);
  auto tmp = path;
  tmp += ".tmp" + std::to_string(::getpid());
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << j.dump(2) << "\n";
    if (!out) throw std::runtime_error("cannot write " + tmp.string());
  }
  std::filesystem::rename(tmp, path);
}

std::optional<LabState> load_state(const std::filesystem::path& dir) {
  std::ifstream in(state_file(dir));
  if (!in) return std::nullopt;
  auto j = nlohmann::json::parse(in, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return std::nullopt;
  LabState s;
  s.ns = j.value("namespace", "");
  s.dir = dir;
  s.server_ip = j.value("server_ip", "");
  s.http_port = j.value("http_port", 80);
  s.cluster = j.value("cluster", "");
  if (j.contains("serve")) s.serve = process_from(j["serve"]);
  for (const auto& v : j.value("vms", nlohmann::json::array())) s.vms.push_back(process_from(v));
  if (j.contains("vm_argv") && j["vm_argv"].is_array())
    s.vm_argv = j["vm_argv"].get<std::vector<std::vector<std::string>>>();
  for (const auto& n : j.value("nodes", nlohmann::json::array()))
    s.nodes.push_back(
        {n.value("name", ""), n.value("mac", ""), n.value("ip", ""), n.value("tap", ""), n.value("firmware", "")});
  return s;
}

}  // namespace ramfleet::lab
