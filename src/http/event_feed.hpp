#pragma once
// The operator's live feed, GET /api/v1/events/stream (docs/operations.md,
// "Dashboard"): boots, node phases and approvals as server-sent events.
// Sans-IO: the ring of recent events and the open streams live here; each
// stream is a ReplyStream (reply_stream.hpp) that the operator transport
// drains to its socket.
//
// Memory is bounded by construction. The feed keeps the last `capacity`
// events; an open stream queues at most `max_queued` bytes that its client
// has not taken yet. A client that stops reading fills its queue and is
// dropped (counted: http.events.dropped_slow), never buffered for. When it
// comes back with a Last-Event-ID the ring no longer holds (or one from an
// earlier run of the server, or one whose backlog would not fit its queue),
// it gets a "reset" event telling it to reload its view from the API, then
// the events from there on.
//
// Event ids are "<epoch>-<seq>": seq counts from 1 in this run, epoch names
// the run, so an id from before a restart is never mistaken for a current one.
#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/counters.hpp"
#include "http/reply_stream.hpp"

namespace ramfleet::http {

struct FeedLimits {
  std::size_t capacity = 4096;                       // events kept for resuming streams
  std::size_t max_subscribers = 16;                  // open streams; more are refused (503), counted
  std::size_t max_queued = std::size_t{256} * 1024;  // bytes one stream may hold for a client not reading
};

// What the client waits before reconnecting (the SSE "retry" field).
inline constexpr std::chrono::milliseconds kFeedRetry{3000};

struct FeedEvent {
  std::uint64_t seq = 0;
  std::string type;  // "boot", "phase", "approval"
  std::string data;  // one line of JSON
};

// The Last-Event-ID a client sent, read.
struct FeedPosition {
  std::string epoch;
  std::uint64_t seq = 0;
};
// Nullopt: malformed (the handler answers 400). An empty header is "absent".
std::optional<std::optional<FeedPosition>> parse_last_event_id(std::string_view header);

class EventFeed {
 public:
  // `counters` (may be null) gets http.events.dropped_slow; it must outlive the feed.
  explicit EventFeed(std::string epoch, FeedLimits limits = {}, Counters* counters = nullptr);
  EventFeed(const EventFeed&) = delete;
  EventFeed& operator=(const EventFeed&) = delete;

  // Appends an event (data: a JSON object, dumped on one line) and queues it
  // on every open stream; a stream whose client left is forgotten, one whose
  // queue is full is closed and forgotten. Returns its seq.
  std::uint64_t publish(std::string_view type, const nlohmann::json& data);

  struct Opened {
    bool reset = false;  // the client must reload its view
  };
  struct Full {};  // max_subscribers streams are open
  // Attaches `out` and queues on it: "retry:", then a "hello" carrying the
  // current id (no `from`), the events after `from` (a resume), or a "reset"
  // (a resume that cannot be honoured); then every event as it is published.
  std::variant<Opened, Full> attach(const std::optional<FeedPosition>& from, std::shared_ptr<ReplyStream> out);

  // A stream for attach() with this feed's queue bound.
  [[nodiscard]] std::shared_ptr<ReplyStream> make_stream() const {
    return std::make_shared<ReplyStream>(limits_.max_queued);
  }

  [[nodiscard]] const std::string& epoch() const { return epoch_; }
  [[nodiscard]] std::uint64_t last_seq() const { return next_seq_ - 1; }
  // The oldest seq still held (last_seq() + 1 when empty).
  [[nodiscard]] std::uint64_t first_seq() const { return next_seq_ - ring_.size(); }
  // Open streams (those whose client left are forgotten first).
  [[nodiscard]] std::size_t subscribers();
  [[nodiscard]] const FeedLimits& limits() const { return limits_; }

 private:
  [[nodiscard]] std::string format(const FeedEvent& e) const;
  [[nodiscard]] std::string id(std::uint64_t seq) const;
  void forget_closed();

  std::string epoch_;
  FeedLimits limits_;
  Counters* counters_;
  std::deque<FeedEvent> ring_;
  std::uint64_t next_seq_ = 1;
  std::vector<std::shared_ptr<ReplyStream>> streams_;
};

}  // namespace ramfleet::http
