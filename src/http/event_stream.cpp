// GET /api/v1/events/stream: the live feed as server-sent events
// (event_feed.hpp). The handler attaches a ReplyStream to the feed; the
// operator transport drains it (reply_stream.hpp).
#include "core/log.hpp"
#include "http/reply_stream.hpp"
#include "http/router.hpp"

namespace ramfleet::http {

Reply handle_event_stream(ServiceState& st, const Request& req) {
  auto from = parse_last_event_id(req.last_event_id.value_or(""));
  if (!from) {
    st.counters.inc("http.events.bad_last_event_id");
    return error_reply(400, "Last-Event-ID must be <epoch>-<number>, as this server sent it");
  }
  auto stream = st.events.make_stream();
  auto attached = st.events.attach(*from, stream);
  if (std::holds_alternative<EventFeed::Full>(attached)) {
    st.counters.inc("http.events.refused");
    log::warn("http.events.refused", {{"peer", req.peer}, {"streams", st.events.limits().max_subscribers}});
    auto r = error_reply(
        503, "too many open event streams (limit " + std::to_string(st.events.limits().max_subscribers) + ")");
    r.header("Retry-After", "10");
    return r;
  }
  st.counters.inc("http.events.streams");
  if (std::get<EventFeed::Opened>(attached).reset) st.counters.inc("http.events.reset");
  Reply r;
  r.status = 200;
  r.header("Content-Type", "text/event-stream; charset=utf-8");
  // For a proxy in front: do not hold the events back in a buffer.
  r.header("X-Accel-Buffering", "no");
  r.stream = std::move(stream);
  r.close = true;  // the body ends when the connection does
  return r;
}

}  // namespace ramfleet::http
