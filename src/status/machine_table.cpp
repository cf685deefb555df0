#include "status/machine_table.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>

namespace ramfleet::status {
using json = nlohmann::json;

namespace {

std::string text(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::int64_t number(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_number_integer() ? it->get<std::int64_t>() : 0;
}

// MAC -> address of its newest lease.
std::map<std::string, std::string> lease_addresses(const json& leases) {
  std::map<std::string, std::pair<std::int64_t, std::string>> best;
  if (!leases.is_array()) return {};
  for (const auto& l : leases) {
    if (!l.is_object()) continue;
    const auto mac = text(l, "mac");
    const auto address = text(l, "address");
    if (mac.empty() || address.empty()) continue;
    const auto expires = number(l, "expires_at");
    auto [it, fresh] = best.emplace(mac, std::pair{expires, address});
    if (!fresh && expires > it->second.first) it->second = {expires, address};
  }
  std::map<std::string, std::string> out;
  for (auto& [mac, v] : best) out.emplace(mac, std::move(v.second));
  return out;
}

std::string or_none(const std::string& s) { return s.empty() ? "<none>" : s; }

std::string age_since(std::int64_t then_ms, std::int64_t now_ms) {
  if (then_ms <= 0) return "<unknown>";
  return human_age(std::chrono::milliseconds(now_ms - then_ms));
}

std::string labels_text(const std::map<std::string, std::string>& labels) {
  std::string out;
  for (const auto& [k, v] : labels) out += (out.empty() ? "" : ",") + k + "=" + v;
  return or_none(out);
}

// Columns padded to their widest cell plus three spaces, the last one not
// padded (kubectl's tabwriter).
std::string table(const std::vector<std::vector<std::string>>& cells) {
  std::vector<std::size_t> width;
  for (const auto& row : cells)
    for (std::size_t i = 0; i < row.size(); ++i) {
      if (width.size() <= i) width.push_back(0);
      width[i] = std::max(width[i], row[i].size());
    }
  std::string out;
  for (const auto& row : cells) {
    for (std::size_t i = 0; i < row.size(); ++i) {
      out += row[i];
      if (i + 1 < row.size()) out.append(width[i] - row[i].size() + 3, ' ');
    }
    out += '\n';
  }
  return out;
}

json row_json(const MachineRow& r, std::int64_t now_ms) {
  auto opt = [](const std::string& s) { return s.empty() ? json(nullptr) : json(s); };
  return {{"name", r.name},
          {"id", r.id},
          {"mac", opt(r.mac)},
          {"ip", opt(r.ip)},
          {"group", opt(r.group)},
          {"profile", opt(r.profile)},
          {"phase", r.phase},
          {"age", age_since(r.first_seen_ms, now_ms)},
          {"first_seen_ms", r.first_seen_ms},
          {"last_boot_ms", r.last_boot_ms},
          {"boots", r.boots},
          {"uuid", opt(r.uuid)},
          {"arch", opt(r.arch)},
          {"labels", r.labels}};
}

void emit_yaml(YAML::Emitter& out, const json& j) {
  if (j.is_object()) {
    out << YAML::BeginMap;
    for (const auto& [k, v] : j.items()) {
      out << YAML::Key << k << YAML::Value;
      emit_yaml(out, v);
    }
    out << YAML::EndMap;
  } else if (j.is_array()) {
    out << YAML::BeginSeq;
    for (const auto& v : j) emit_yaml(out, v);
    out << YAML::EndSeq;
  } else if (j.is_null()) {
    out << YAML::Null;
  } else if (j.is_string()) {
    // Quoted: a hostname like "yes" or "0x10" stays a string for every reader.
    out << YAML::DoubleQuoted << j.get<std::string>();
  } else {
    out << j.dump();
  }
}

}  // namespace

std::optional<Output> output_from_string(std::string_view s) {
  if (s == "table" || s.empty()) return Output::table;
  if (s == "wide") return Output::wide;
  if (s == "json") return Output::json;
  if (s == "yaml") return Output::yaml;
  return std::nullopt;
}

std::vector<MachineRow> machine_rows(const json& machines, const json& leases) {
  std::vector<MachineRow> rows;
  if (!machines.is_array()) return rows;
  const auto addresses = lease_addresses(leases);
  for (const auto& m : machines) {
    if (!m.is_object()) continue;
    MachineRow r;
    r.id = text(m, "id");
    const json facts = m.contains("facts") && m["facts"].is_object() ? m["facts"] : json::object();
    r.mac = text(facts, "mac");
    r.uuid = text(facts, "uuid");
    r.arch = text(facts, "arch");
    if (r.arch.empty()) r.arch = text(facts, "buildarch");
    r.name = text(facts, "hostname");
    if (r.name.empty()) r.name = r.id;
    if (auto it = facts.find("labels"); it != facts.end() && it->is_object())
      for (const auto& [k, v] : it->items())
        if (v.is_string()) r.labels[k] = v.get<std::string>();
    if (auto it = addresses.find(r.mac); !r.mac.empty() && it != addresses.end()) {
      r.ip = it->second;
    } else if (auto ip = r.labels.find("ip"); ip != r.labels.end()) {
      r.ip = ip->second;
    }
    r.group = text(m, "group");
    r.profile = text(m, "profile");
    r.phase = text(m, "last_phase");
    if (r.phase.empty()) r.phase = text(m, "decision") == "exit" ? "unmatched" : "booting";
    r.first_seen_ms = number(m, "first_seen_ms");
    r.last_boot_ms = number(m, "last_seen_ms");
    const auto boots = number(m, "boots");
    r.boots = boots > 0 ? static_cast<std::uint64_t>(boots) : 0;
    rows.push_back(std::move(r));
  }
  return rows;
}

std::string human_age(std::chrono::milliseconds age) {
  // kubectl tolerates a clock a second ahead ("0s"); more is invalid.
  const long long seconds = age.count() / 1000;
  if (seconds < -1) return "<invalid>";
  if (age.count() < 0) return "0s";
  auto s = [](long long v, const char* unit) { return std::to_string(v) + unit; };
  if (seconds < 60LL * 2) return s(seconds, "s");
  const long long minutes = seconds / 60;
  if (minutes < 10) return seconds % 60 == 0 ? s(minutes, "m") : s(minutes, "m") + s(seconds % 60, "s");
  if (minutes < 60LL * 3) return s(minutes, "m");
  const long long hours = minutes / 60;
  if (hours < 8) return minutes % 60 == 0 ? s(hours, "h") : s(hours, "h") + s(minutes % 60, "m");
  if (hours < 48) return s(hours, "h");
  if (hours < 24LL * 8) return hours % 24 == 0 ? s(hours / 24, "d") : s(hours / 24, "d") + s(hours % 24, "h");
  if (hours < 24LL * 365 * 2) return s(hours / 24, "d");
  if (hours < 24LL * 365 * 8) {
    const long long days = (hours / 24) % 365;
    return days == 0 ? s(hours / 24 / 365, "y") : s(hours / 24 / 365, "y") + s(days, "d");
  }
  return s(hours / 24 / 365, "y");
}

std::string render(const std::vector<MachineRow>& rows, Output output, std::int64_t now_ms) {
  if (output == Output::json || output == Output::yaml) {
    json list = json::array();
    for (const auto& r : rows) list.push_back(row_json(r, now_ms));
    const json doc{{"machines", list}};
    if (output == Output::json) return doc.dump(2) + "\n";
    YAML::Emitter out;
    emit_yaml(out, doc);
    return std::string(out.c_str()) + "\n";
  }
  if (rows.empty()) return "No machines have booted from this server yet.\n";
  const bool wide = output == Output::wide;
  std::vector<std::vector<std::string>> cells;
  cells.push_back({"NAME", "MAC", "IP", "GROUP", "PROFILE", "PHASE", "AGE"});
  if (wide) cells.back().insert(cells.back().end(), {"UUID", "ARCH", "LAST-BOOT", "LABELS"});
  for (const auto& r : rows) {
    cells.push_back({r.name, or_none(r.mac), or_none(r.ip), or_none(r.group), or_none(r.profile), r.phase,
                     age_since(r.first_seen_ms, now_ms)});
    if (wide)
      cells.back().insert(cells.back().end(),
                          {or_none(r.uuid), or_none(r.arch), age_since(r.last_boot_ms, now_ms), labels_text(r.labels)});
  }
  return table(cells);
}

std::string render_not_ready(const json& report, Output output, std::int64_t now_ms) {
  const json machines = report.is_object() && report.contains("machines") && report["machines"].is_array()
                            ? report["machines"]
                            : json::array();
  if (output == Output::json || output == Output::yaml) {
    const json doc{{"machines", machines},
                   {"count", report.is_object() ? report.value("count", machines.size()) : machines.size()}};
    if (output == Output::json) return doc.dump(2) + "\n";
    YAML::Emitter out;
    emit_yaml(out, doc);
    return std::string(out.c_str()) + "\n";
  }
  if (machines.empty()) return "Every machine whose boot was seen reached ready.\n";
  const bool wide = output == Output::wide;
  std::vector<std::vector<std::string>> cells;
  cells.push_back({"MACHINE", "ADDRESS", "LAST-STEP", "FOR"});
  if (wide) cells.back().insert(cells.back().end(), {"PROFILE", "BOOT-AGE"});
  cells.back().push_back("REASON");
  for (const auto& m : machines) {
    if (!m.is_object()) continue;
    cells.push_back({text(m, "id"), or_none(text(m, "address")), text(m, "last_step"),
                     age_since(number(m, "last_step_at_ms"), now_ms)});
    if (wide)
      cells.back().insert(cells.back().end(),
                          {or_none(text(m, "profile")), age_since(number(m, "boot_started_ms"), now_ms)});
    cells.back().push_back(text(m, "reason"));
  }
  std::string out = table(cells);
  const auto count = report.value("count", machines.size());
  if (count > machines.size()) {
    out += "(" + std::to_string(machines.size()) + " of " + std::to_string(count) + " shown)\n";
  }
  return out;
}

}  // namespace ramfleet::status
