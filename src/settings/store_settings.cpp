#include "settings/store_settings.hpp"

#include <string>

namespace ramfleet::settings {
namespace {

constexpr std::int64_t kMaxCount = 100'000'000;

void count(YamlFields& y, const YAML::Node& node, const char* key, std::size_t& into) {
  if (auto n = node[key])
    if (auto v = y.integer(n, std::string("store.") + key, 1, kMaxCount)) into = static_cast<std::size_t>(*v);
}

void duration(YamlFields& y, const YAML::Node& node, const char* key, std::chrono::milliseconds& into) {
  if (auto n = node[key])
    if (auto v = y.duration_ms(n, std::string("store.") + key)) into = *v;
}

}  // namespace

void read_store_section(YamlFields& y, const YAML::Node& node, boot::MachineStoreLimits& into) {
  if (!y.expect_map(node, "store",
                    {"max_pending_boots", "boot_history", "events_per_machine", "event_max_age", "max_unknown_machines",
                     "unknown_max_age", "max_db_bytes", "maintenance_interval", "log_interval", "busy_timeout"}))
    return;
  count(y, node, "max_pending_boots", into.max_pending_boots);
  count(y, node, "boot_history", into.boot_history);
  count(y, node, "events_per_machine", into.events_per_machine);
  count(y, node, "max_unknown_machines", into.max_unknown_machines);
  duration(y, node, "event_max_age", into.event_max_age);
  duration(y, node, "unknown_max_age", into.unknown_max_age);
  duration(y, node, "maintenance_interval", into.maintenance_interval);
  duration(y, node, "log_interval", into.log_interval);
  duration(y, node, "busy_timeout", into.busy_timeout);
  // At least 1 MiB: SQLite needs a few pages for its schema before any boot is stored.
  if (auto n = node["max_db_bytes"])
    if (auto v = y.size(n, "store.max_db_bytes", 1ULL << 20, 1ULL << 50))
      into.max_db_bytes = static_cast<std::int64_t>(*v);
}

}  // namespace ramfleet::settings
