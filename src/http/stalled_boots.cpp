// GET /api/v1/boots/stalled (operator listener, any scope): after a storm,
// which machines did not reach ready, and why (boot/boot_progress.hpp;
// docs/operations.md, "Machines that did not reach ready").
//
//   since=DURATION   boots that started at most this long ago (e.g. 15m)
//   since_ms=MS      ... or at/after this wall time (ms since the epoch)
//   idle=DURATION    only machines whose last step is at least this old
//                    (leaves out those still moving; default 0s)
//   limit=N          at most N machines (1 to 10000, default 1000)
#include <boost/url/parse.hpp>
#include <charconv>
#include <nlohmann/json.hpp>

#include "core/duration.hpp"
#include "http/api_reply.hpp"
#include "http/router.hpp"

namespace ramfleet::http {
using json = nlohmann::json;

namespace {
constexpr std::size_t kDefaultLimit = 1000;
constexpr std::size_t kMaxLimit = 10000;

Reply bad_query(ServiceState& st, const std::string& why) {
  st.counters.inc("http.api.bad_query");
  return error_reply(400, why);
}

template <typename T>
bool read_integer(std::string_view v, T& out) {
  auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
  return ec == std::errc{} && end == v.data() + v.size();
}
}  // namespace

Reply handle_stalled_boots(ServiceState& st, const Request& req) {
  const std::int64_t now = now_ms();
  std::int64_t since = 0;
  std::int64_t idle = 0;
  std::size_t limit = kDefaultLimit;
  if (auto parsed = boost::urls::parse_origin_form(req.target)) {
    for (auto p : parsed->params()) {
      const std::string v(p.value);
      if (p.key == "since") {
        auto d = parse_duration(v);
        if (!d) return bad_query(st, "since: a duration back from now, like 15m or 1h30m");
        since = now - d->count();
      } else if (p.key == "since_ms") {
        if (!read_integer(v, since) || since < 0)
          return bad_query(st, "since_ms: a wall time in milliseconds since the epoch");
      } else if (p.key == "idle") {
        auto d = parse_duration(v);
        if (!d) return bad_query(st, "idle: a duration, like 30s");
        idle = d->count();
      } else if (p.key == "limit") {
        if (!read_integer(v, limit) || limit == 0 || limit > kMaxLimit)
          return bad_query(st, "limit must be an integer from 1 to " + std::to_string(kMaxLimit));
      } else {
        return bad_query(
            st, "unknown query parameter '" + std::string(p.key) + "' (expected since, since_ms, idle, limit)");
      }
    }
  }
  const auto found = st.progress.stalled(since, idle, now, limit);
  json machines = json::array();
  for (const auto& e : found.machines) {
    machines.push_back({{"id", e.machine_id},
                        {"last_step", boot::to_string(e.step)},
                        {"reason", boot::BootProgress::reason(e)},
                        {"detail", e.detail},
                        {"address", e.address.empty() ? json(nullptr) : json(e.address)},
                        {"profile", e.profile.empty() ? json(nullptr) : json(e.profile)},
                        {"last_step_at_ms", e.at_ms},
                        {"boot_started_ms", e.boot_started_ms},
                        {"stuck_for_s", static_cast<double>(now - e.at_ms) / 1000.0}});
  }
  st.counters.inc("http.api.stalled_boots");
  return json_reply(200, json{{"now_ms", now},
                              {"since_ms", since},
                              {"machines_followed", st.progress.followed()},
                              {"machines_forgotten", st.progress.forgotten()},
                              {"count", found.total},
                              {"truncated", found.total > found.machines.size()},
                              {"machines", std::move(machines)}});
}

}  // namespace ramfleet::http
