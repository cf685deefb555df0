#include "boot/cluster_node.hpp"

#include <yaml-cpp/yaml.h>

#include <cctype>
#include <limits>
#include <stdexcept>

namespace ramfleet::boot {
using namespace ramfleet::inventory;

namespace {
std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

const std::string* group_meta(const Group* group, const std::string& key) {
  if (group == nullptr) return nullptr;
  auto it = group->metadata.find(key);
  return it == group->metadata.end() ? nullptr : &it->second;
}
}  // namespace

std::string cluster_node_name(const MachineFacts& facts, const Group* group) {
  if (const auto* h = facts.get(FactKey::hostname)) return lower(*h);
  if (const auto* h = group_meta(group, "hostname")) return lower(*h);
  if (facts.mac) {
    auto name = "node-" + facts.mac->str();
    for (auto& c : name)
      if (c == ':') c = '-';
    return lower(name);
  }
  if (const auto* uuid = facts.get(FactKey::uuid)) return "node-" + lower(*uuid);
  return {};
}

kube::MachineFacts cluster_machine_facts(const MachineFacts& facts, const Group* group) {
  kube::MachineFacts m;
  m.mac = facts.mac;
  m.hostname = cluster_node_name(facts, group);
  for (const auto& [k, v] : facts.labels) m.labels[k] = v;
  if (group != nullptr) {
    for (const auto& [k, v] : group->metadata) m.labels[k] = v;
  }
  return m;
}

kube::PlacementResult place_machine(const kube::ClusterSpec& spec, const MachineFacts& facts, const Group* group,
                                    const std::string& ip) {
  return kube::place_node(spec, cluster_machine_facts(facts, group), ip);
}

RamRootResult ram_root_for(const MachineFacts& facts, const Group* group) {
  RamRootResult r;
  const std::string* text = group_meta(group, "ram_root_size");
  if (text == nullptr) text = facts.label("ram_root_size");
  if (text == nullptr) return r;
  std::size_t digits = 0;
  while (digits < text->size() && std::isdigit(static_cast<unsigned char>((*text)[digits]))) ++digits;
  const std::string unit = text->substr(digits);
  std::uint64_t mult = 0;
  if (unit.empty()) mult = 1;
  if (unit == "Ki") mult = 1ULL << 10U;
  if (unit == "Mi") mult = 1ULL << 20U;
  if (unit == "Gi") mult = 1ULL << 30U;
  if (unit == "Ti") mult = 1ULL << 40U;
  if (unit == "K") mult = 1000ULL;
  if (unit == "M") mult = 1000ULL * 1000;
  if (unit == "G") mult = 1000ULL * 1000 * 1000;
  if (unit == "T") mult = 1000ULL * 1000 * 1000 * 1000;
  if (digits == 0 || digits > 12 || mult == 0) {
    r.error = "ram_root_size '" + text->substr(0, 32) + "' is not a size like 8Gi, 512Mi or 2G";
    return r;
  }
  const std::uint64_t n = std::stoull(text->substr(0, digits));
  if (n > std::numeric_limits<std::uint64_t>::max() / mult / 100) {  // render.cpp multiplies by a percentage
    r.error = "ram_root_size '" + *text + "' is too large";
    return r;
  }
  r.ram.tmpfs_bytes = n * mult;
  return r;
}

std::string node_files_layer(const std::vector<kube::NodeFile>& files) {
  YAML::Emitter out;
  out << YAML::BeginMap << YAML::Key << "storage" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "files" << YAML::Value << YAML::BeginSeq;
  for (const auto& f : files) {
    if (f.contents.find("{{") != std::string::npos || f.path.find("{{") != std::string::npos) {
      throw std::invalid_argument(f.path + " would be read as a template (it contains \"{{\")");
    }
    out << YAML::BeginMap;
    out << YAML::Key << "path" << YAML::Value << f.path;
    // Decimal, as Ignition reads a plain number: 384 = 0600, 420 = 0644.
    out << YAML::Key << "mode" << YAML::Value << (f.secret ? 0600 : 0644);
    // The image may ship the file (/etc/hostname, /etc/machine-id): replace it.
    out << YAML::Key << "overwrite" << YAML::Value << true;
    out << YAML::Key << "contents" << YAML::Value << YAML::BeginMap;
    out << YAML::Key << "inline" << YAML::Value << YAML::DoubleQuoted << f.contents;
    out << YAML::EndMap << YAML::EndMap;
  }
  out << YAML::EndSeq << YAML::EndMap << YAML::EndMap;
  if (!out.good()) throw std::invalid_argument(std::string("cannot write the node files layer: ") + out.GetLastError());
  return std::string(out.c_str()) + "\n";
}

}  // namespace ramfleet::boot
