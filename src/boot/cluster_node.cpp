#include "boot/cluster_node.hpp"

#include <yaml-cpp/yaml.h>

#include <cctype>
#include <limits>
#include <stdexcept>

#include "core/ipv4.hpp"

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

const Group* operator_group(const Group* group) {
  if (group == nullptr) return nullptr;
  for (const auto& c : group->selector.constraints()) {
    if (c.kind == inventory::Constraint::Kind::fact && c.fact == FactKey::mac) return group;
  }
  return nullptr;
}

std::string cluster_node_name(const MachineFacts& facts, const Group* group, std::string_view reserved_hostname) {
  if (const auto* h = group_meta(operator_group(group), "hostname")) return lower(*h);
  if (!reserved_hostname.empty()) return lower(std::string(reserved_hostname));
  if (facts.mac) {
    auto name = "node-" + facts.mac->str();
    for (auto& c : name)
      if (c == ':') c = '-';
    return lower(name);
  }
  if (const auto* uuid = facts.get(FactKey::uuid)) return "node-" + lower(*uuid);
  return {};
}

kube::MachineView cluster_machine_view(const MachineFacts& facts, const Group* group,
                                       std::string_view reserved_hostname) {
  kube::MachineView m;
  m.mac = facts.mac;
  m.hostname = cluster_node_name(facts, group, reserved_hostname);
  if (const Group* g = operator_group(group)) {
    for (const auto& [k, v] : g->metadata) m.labels[k] = v;
  }
  return m;
}

namespace {
std::optional<AddressOwners::Reservation> reservation(const MachineFacts& facts, const AddressOwners* owners) {
  if (owners == nullptr || !facts.mac) return std::nullopt;
  return owners->reservation_of(*facts.mac);
}
}  // namespace

ClusterIdentity cluster_identity(const kube::ClusterSpec& spec, const MachineFacts& facts, const Group* group,
                                 const AddressOwners* owners) {
  ClusterIdentity id;
  const auto res = reservation(facts, owners);
  const auto m = cluster_machine_view(facts, group, res ? std::string_view(res->hostname) : std::string_view());
  id.name = m.hostname;
  const auto roles = spec.roles_for(m);
  if (!roles.empty()) id.role = roles.front();  // roles_for lists control-plane first
  if (id.role == kube::Role::control_plane) {
    for (const auto& member : spec.etcd_members) {
      if (member.name == id.name) id.expected_address = member.ip.str();
    }
  }
  if (id.expected_address.empty()) {
    if (const auto* ip = group_meta(operator_group(group), "ip")) {
      const auto parsed = Ipv4::parse(*ip);
      id.expected_address = parsed ? parsed->str() : *ip;  // unparsable: no requester can match it
    }
  }
  if (id.expected_address.empty() && res && !res->address.is_zero()) id.expected_address = res->address.str();
  return id;
}

kube::PlacementResult place_machine(const kube::ClusterSpec& spec, const MachineFacts& facts, const Group* group,
                                    const AddressOwners* owners, const std::string& worker_ip) {
  const auto res = reservation(facts, owners);
  return kube::place_node(
      spec, cluster_machine_view(facts, group, res ? std::string_view(res->hostname) : std::string_view()), worker_ip);
}

std::string requester_ipv4(std::string_view peer_address) {
  if (peer_address.starts_with("::ffff:")) peer_address.remove_prefix(7);
  const auto ip = Ipv4::parse(peer_address);
  return ip ? ip->str() : std::string();
}

std::string address_mismatch(const ClusterIdentity& identity, const std::optional<MacAddress>& mac,
                             const std::string& requester, const AddressOwners* owners) {
  const std::string machine = mac ? mac->str() : std::string("without a MAC");
  if (requester.empty()) return "node " + identity.name + " must boot over IPv4";
  if (owners != nullptr && owners->leases_known()) {
    const auto holder = owners->holder_of(*Ipv4::parse(requester));
    if (!mac || !holder || *holder != *mac) {
      return "the request for node " + identity.name + " (machine " + machine + ") came from " + requester +
             ", which does not hold that machine's DHCP lease";
    }
  }
  if (!identity.expected_address.empty() && identity.expected_address != requester) {
    return "the request for node " + identity.name + " (machine " + machine + ") came from " + requester +
           ", but the operator gave that node the address " + identity.expected_address;
  }
  return {};
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
