#include "inventory/machine_file.hpp"

#include <nlohmann/json.hpp>

#include "inventory/facts.hpp"

namespace ramfleet::inventory {

namespace {
bool lower_alnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }
bool alnum(char c) { return lower_alnum(c) || (c >= 'A' && c <= 'Z'); }
bool id_char(char c) { return alnum(c) || c == '-' || c == '_' || c == '.'; }

// A name from a request: shown in an error, so cut and made printable.
std::string shown(std::string_view s) {
  std::string out;
  for (char c : s.substr(0, 64)) out.push_back(c >= 0x20 && c < 0x7f ? c : '?');
  if (s.size() > 64) out += "...";
  return out;
}

std::string quoted(const std::string& s) { return nlohmann::json(s).dump(); }
}  // namespace

std::string machine_name_refusal(std::string_view name) {
  if (name.empty()) return "a machine name is required";
  if (name.size() > kMaxMachineName) {
    return "machine name '" + shown(name) + "' is longer than " + std::to_string(kMaxMachineName) + " characters";
  }
  for (char c : name) {
    if (!lower_alnum(c) && c != '-') {
      return "machine name '" + shown(name) +
             "' must be a DNS label: lower-case letters, digits and '-' (it names the file machines/<name>.yaml and "
             "the node)";
    }
  }
  if (name.front() == '-' || name.back() == '-') {
    return "machine name '" + shown(name) + "' must start and end with a letter or digit";
  }
  return {};
}

std::string group_id_refusal(std::string_view id) {
  if (id.empty()) return "a group is required";
  if (id.size() > 64 || id == "." || id == "..") return "group '" + shown(id) + "' is not a group id";
  for (char c : id) {
    if (!id_char(c)) return "group '" + shown(id) + "' is not a group id (1-64 characters of [A-Za-z0-9._-])";
  }
  return {};
}

std::string label_refusal(std::string_view key, std::string_view value) {
  if (key.empty() || key.size() > kMaxLabelKey || !alnum(key.front())) {
    return "label '" + shown(key) + "': a key is 1-63 characters of [A-Za-z0-9._-], starting with a letter or digit";
  }
  for (char c : key) {
    if (!id_char(c)) return "label '" + shown(key) + "': a key is 1-63 characters of [A-Za-z0-9._-]";
  }
  if (key == "hostname") return "label 'hostname' is the machine's name; set it with the approve write";
  if (value.size() > kMaxLabelValue) {
    return "label '" + std::string(key) + "': the value is longer than " + std::to_string(kMaxLabelValue) + " bytes";
  }
  for (char c : value) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      return "label '" + std::string(key) + "': the value holds a control character";
    }
  }
  return {};
}

std::optional<MachineKey> machine_key(std::string_view machine_id) {
  if (auto mac = MacAddress::parse(machine_id)) return MachineKey{mac, {}};
  if (machine_id.starts_with("uuid-")) {
    if (auto u = normalise_uuid(machine_id.substr(5))) return MachineKey{std::nullopt, *u};
  }
  return std::nullopt;
}

std::string render_machine_file(const MachineFile& m, std::string_view comment) {
  std::string out;
  std::size_t from = 0;
  while (from < comment.size()) {
    auto nl = comment.find('\n', from);
    if (nl == std::string_view::npos) nl = comment.size();
    out += "# ";
    for (char c : comment.substr(from, nl - from)) out.push_back(static_cast<unsigned char>(c) < 0x20 ? '?' : c);
    out += "\n";
    from = nl + 1;
  }
  if (m.mac) {
    out += "mac: " + quoted(m.mac->str()) + "\n";
  } else {
    out += "uuid: " + quoted(m.uuid) + "\n";
  }
  out += "group: " + quoted(m.group) + "\n";
  if (!m.labels.empty()) {
    out += "labels:\n";
    for (const auto& [k, v] : m.labels) out += "  " + quoted(k) + ": " + quoted(v) + "\n";
  }
  return out;
}

std::filesystem::path machine_file_path(const std::filesystem::path& config_dir, std::string_view name) {
  return config_dir / "machines" / (std::string(name) + ".yaml");
}

}  // namespace ramfleet::inventory
