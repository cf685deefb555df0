#pragma once
// What `ramfleet status` prints, as a pure function of what the operator API
// answered (GET /api/v1/machines and /api/v1/leases) and the time: a table
// like `kubectl get nodes` (NAME MAC IP GROUP PROFILE PHASE AGE; wide adds
// UUID ARCH LAST-BOOT LABELS), or the same rows as JSON or YAML for scripts.
// No sockets here: the CLI fetches, this formats, unit tests pin the output.
#include <chrono>
#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace ramfleet::status {

enum class Output { table, wide, json, yaml };

// "table" (the default), "wide", "json" or "yaml"; nullopt otherwise.
std::optional<Output> output_from_string(std::string_view s);

// One machine as the table shows it. Absent values are empty.
struct MachineRow {
  std::string id;    // the store's key: the MAC, or "uuid-..."
  std::string name;  // hostname fact, else the id
  std::string mac;
  std::string ip;  // its DHCP lease (full mode), else an `ip` fact it sent
  std::string group;
  std::string profile;
  std::string phase;  // the last event it reported; "booting" before any, "unmatched" when told to exit
  std::int64_t first_seen_ms = 0;
  std::int64_t last_boot_ms = 0;
  std::string uuid;
  std::string arch;
  std::map<std::string, std::string> labels;
  std::uint64_t boots = 0;
};

// Rows from the API's answers, in the API's order (by id). Entries that are
// not objects are skipped: the CLI shows what it can read.
std::vector<MachineRow> machine_rows(const nlohmann::json& machines, const nlohmann::json& leases);

// kubectl's age (k8s.io/apimachinery duration.HumanDuration): 5s, 119s, 3m20s,
// 45m, 7h30m, 2d3h, 40d, 2y100d.
std::string human_age(std::chrono::milliseconds age);

// The whole output, ending in a newline; now_ms is the wall clock (ms since
// the epoch) ages are measured against.
std::string render(const std::vector<MachineRow>& rows, Output output, std::int64_t now_ms);

// `ramfleet status --not-ready`: GET /api/v1/boots/stalled's answer as a
// table (MACHINE ADDRESS LAST-STEP FOR REASON; wide adds PROFILE and BOOT-AGE),
// or its machines as JSON or YAML.
std::string render_not_ready(const nlohmann::json& report, Output output, std::int64_t now_ms);

}  // namespace ramfleet::status
