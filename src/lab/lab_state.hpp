#pragma once
// What a running lab consists of, written to <lab dir>/lab.json before each
// thing is created (namespace name first), so `lab down` or the next `lab up`
// can remove everything after a crash, by PID (+ start time), never by name.
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "lab/process.hpp"

namespace ramfleet::lab {

struct NodeSpec {
  std::string name;      // node1
  std::string mac;       // 52:54:00:99:00:01
  std::string ip;        // reserved address
  std::string tap;       // tap1
  std::string firmware;  // bios | uefi
};

struct LabState {
  std::string ns;
  std::filesystem::path dir;
  std::optional<ProcessRef> serve;
  std::vector<ProcessRef> vms;                    // one per node, same order
  std::vector<std::vector<std::string>> vm_argv;  // to power-cycle a node (`lab reboot`)
  std::vector<NodeSpec> nodes;
  std::string server_ip;
  int http_port = 80;
  std::string cluster;  // "etcd": the nodes are etcd members (STATE in <dir>/state)
};

std::filesystem::path state_file(const std::filesystem::path& dir);
// Atomic: temp file + rename.
void save_state(const LabState& s);
std::optional<LabState> load_state(const std::filesystem::path& dir);

}  // namespace ramfleet::lab
