#include "http/service_state.hpp"

#include <nlohmann/json.hpp>

namespace ramfleet::http {

namespace {
// Names this run of the server in event ids (event_feed.hpp): its start time
// in milliseconds, base 36.
std::string feed_epoch() {
  auto ms = static_cast<std::uint64_t>(now_ms());
  std::string out;
  do {
    out.insert(out.begin(), "0123456789abcdefghijklmnopqrstuvwxyz"[ms % 36]);
    ms /= 36;
  } while (ms > 0);
  return out;
}
}  // namespace

ServiceState::ServiceState() : events(feed_epoch(), FeedLimits{}, &counters) {
  on_boot = [this](const boot::BootRecord& r) {
    nlohmann::json j{
        {"machine", r.machine_id}, {"decision", r.decision}, {"discovered", r.decision != "group"}, {"at_ms", r.at_ms}};
    j["group"] = r.group.empty() ? nlohmann::json(nullptr) : nlohmann::json(r.group);
    j["profile"] = r.profile.empty() ? nlohmann::json(nullptr) : nlohmann::json(r.profile);
    events.publish("boot", j);
  };
}

}  // namespace ramfleet::http
