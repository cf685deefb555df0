// /healthz and the JSON API's reads under /api/v1/ (operator listener); the
// node event POST (boot listener) is event_handlers.cpp.
#include <boost/url/encode.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/rfc/unreserved_chars.hpp>
#include <boost/url/url_view.hpp>
#include <charconv>
#include <nlohmann/json.hpp>

#include "core/log.hpp"
#include "http/api_reply.hpp"
#include "http/router.hpp"
#include "inventory/config_layers.hpp"
#include "store/sqlite_machine_store.hpp"

namespace ramfleet::http {
namespace inv = ramfleet::inventory;
using json = nlohmann::json;

namespace {
json groups_json(const inv::Inventory& in) {
  json out = json::array();
  for (const auto& g : in.groups) {
    json sel = json::object();
    for (const auto& c : g.selector.constraints()) {
      if (c.kind == inv::Constraint::Kind::label) {
        sel["labels"][c.label] = c.pattern;
      } else {
        sel[std::string(inv::to_string(c.fact))] = c.pattern;
      }
    }
    const auto& s = g.selector.specificity();
    out.push_back({{"id", g.id},
                   {"profile", g.profile},
                   {"selector", sel},
                   {"specificity", {s.identity, s.narrow, s.klass, s.literal}},
                   {"metadata", g.metadata},
                   {"source", g.mark.str()}});
  }
  return out;
}

json profiles_json(const inv::Inventory& in) {
  json out = json::array();
  for (const auto& [id, p] : in.profiles) {
    out.push_back({{"id", id},
                   {"kernel", p.kernel},
                   {"initrds", p.initrds},
                   {"args", p.args},
                   {"config", inv::profile_config_json(p)},
                   {"source", p.mark.str()}});
  }
  return out;
}

json inventory_status(const ServiceState& st) {
  json errors = json::array();
  for (const auto& d : st.last_reload_errors) errors.push_back(d.str());
  const auto& u = st.inventory->unmatched;
  return {{"generation", st.inventory_generation},
          {"loaded_at_ms", st.inventory_loaded_ms},
          {"groups", st.inventory->groups.size()},
          {"profiles", st.inventory->profiles.size()},
          {"default", u.kind == inv::DefaultAction::Kind::exit ? json("exit") : json({{"profile", u.profile}})},
          {"refused_reload_errors", errors}};
}

// GET /api/v1/machines?limit=N&after=CURSOR: one page, in id order. The body
// stays a JSON array (what every client already reads); the next page is in
// a Link header (RFC 8288, rel="next"), absent on the last page.
constexpr std::size_t kDefaultPageLimit = 500;
constexpr std::size_t kMaxPageLimit = 1000;

Reply list_machines(ServiceState& st, const Request& req) {
  auto parsed = boost::urls::parse_origin_form(req.target);
  std::size_t limit = kDefaultPageLimit;
  std::string after;
  if (parsed) {
    for (auto p : parsed->params()) {
      if (p.key == "limit") {
        const std::string v(p.value);
        std::size_t n = 0;
        auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
        if (ec != std::errc{} || end != v.data() + v.size() || n == 0 || n > kMaxPageLimit) {
          st.counters.inc("http.api.bad_query");
          return error_reply(400, "limit must be an integer from 1 to " + std::to_string(kMaxPageLimit));
        }
        limit = n;
      } else if (p.key == "after") {
        if (p.value.size() > 256) {
          st.counters.inc("http.api.bad_query");
          return error_reply(400, "after: a cursor is at most 256 bytes");
        }
        after = std::string(p.value);
      } else {
        st.counters.inc("http.api.bad_query");
        return error_reply(400, "unknown query parameter '" + std::string(p.key) + "' (expected limit, after)");
      }
    }
  }
  if (!st.store) return json_reply(200, json::array());
  // Queued boots are written first, on the loop (the writer's own job); the
  // read then runs on a worker thread, on the store's read-only connection, so
  // a large page never holds up DHCP, TFTP or other HTTP clients.
  st.store->flush();
  Reply r;
  r.offload = [store = st.store.get(), limit, after]() -> Reply {
    try {
      auto page = store->machines_page(limit, after);
      Reply out = json_reply(200, page.machines);
      if (page.next) {
        out.header("Link", "</api/v1/machines?limit=" + std::to_string(limit) + "&after=" +
                               boost::urls::encode(*page.next, boost::urls::unreserved_chars) + ">; rel=\"next\"");
      }
      return out;
    } catch (const std::exception& e) {
      // Counters belong to the loop: the error is in the reply and the log.
      log::error("http.api.store_error", {{"error", e.what()}});
      return error_reply(500, std::string("store error: ") + e.what());
    }
  };
  return r;
}

}  // namespace

Reply handle_healthz(ServiceState& st) {
  json j{{"status", "ok"}, {"inventory", inventory_status(st)}};
  // A store that cannot write (disk full, locked) is degraded, not down: boots
  // still get their scripts, the queue is bounded. The reason is shown here.
  if (st.store) {
    j["store"] = st.store->health();
    if (!j["store"].value("ok", true)) j["status"] = "degraded";
  }
  return json_reply(200, j);
}

Reply handle_api(ServiceState& st, const Request& req, const std::vector<std::string>& s) {
  const bool get = req.is_read();
  auto only_get = [&]() {
    st.counters.inc("http.error.method_not_allowed");
    auto r = error_reply(405, "method not allowed; use GET");
    r.header("Allow", "GET, HEAD");
    return r;
  };
  try {
    if (s.size() == 1 && s[0] == "machines") {
      if (!get) return only_get();
      return list_machines(st, req);
    }
    if (s.size() == 2 && s[0] == "boots" && s[1] == "stalled") return get ? handle_stalled_boots(st, req) : only_get();
    if (s.size() == 1 && s[0] == "groups") return get ? json_reply(200, groups_json(*st.inventory)) : only_get();
    if (s.size() == 1 && s[0] == "profiles") return get ? json_reply(200, profiles_json(*st.inventory)) : only_get();
    if (s.size() == 1 && s[0] == "inventory") return get ? json_reply(200, inventory_status(st)) : only_get();
    if (s.size() == 1 && s[0] == "etcd") return get ? handle_etcd_status(st) : only_get();
    if (s.size() == 1 && s[0] == "counters") {
      if (!get) return only_get();
      json c = st.counters.all();
      if (st.store) {
        const json health = st.store->health();
        if (auto it = health.find("counters"); it != health.end() && it->is_object()) {
          for (const auto& [k, v] : it->items()) c[k] = v;
        }
      }
      return json_reply(200, c);
    }
    if (s.size() == 1 && s[0] == "leases") {
      if (!get) return only_get();
      return json_reply(200, store::read_leases(st.settings.state_dir / "leases.db"));
    }
    if (s.size() == 2 && s[0] == "machines") {
      if (!get) return only_get();
      auto m = st.store ? st.store->machine(normalise_machine_id(s[1])) : std::nullopt;
      if (!m) return error_reply(404, "no machine '" + s[1] + "'");
      return json_reply(200, *m);
    }
    if (s.size() == 3 && s[0] == "machines" && s[2] == "events") {
      const auto id = normalise_machine_id(s[1]);
      if (!st.store) return error_reply(503, "no state directory configured");
      if (!get) return only_get();
      auto ev = st.store->events(id);
      if (!ev) return error_reply(404, "no machine '" + s[1] + "'");
      return json_reply(200, *ev);
    }
  } catch (const std::exception& e) {
    st.counters.inc("http.api.store_error");
    log::error("http.api.store_error", {{"error", e.what()}});
    return error_reply(500, std::string("store error: ") + e.what());
  }
  st.counters.inc("http.error.not_found");
  return error_reply(404, "no such API resource");
}

}  // namespace ramfleet::http
