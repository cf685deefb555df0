#include "http/event_feed.hpp"

#include <algorithm>
#include <charconv>
#include <nlohmann/json.hpp>

namespace ramfleet::http {

namespace {
constexpr std::size_t kMaxEpochChars = 32;

bool epoch_char(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
}  // namespace

std::optional<std::optional<FeedPosition>> parse_last_event_id(std::string_view h) {
  if (h.empty()) return std::optional<FeedPosition>{};
  const auto dash = h.find('-');
  if (dash == std::string_view::npos || dash == 0 || dash > kMaxEpochChars) return std::nullopt;
  const auto epoch = h.substr(0, dash);
  if (!std::all_of(epoch.begin(), epoch.end(), epoch_char)) return std::nullopt;
  const auto digits = h.substr(dash + 1);
  std::uint64_t seq = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), seq);
  if (digits.empty() || ec != std::errc{} || end != digits.data() + digits.size()) return std::nullopt;
  return std::optional<FeedPosition>{FeedPosition{std::string(epoch), seq}};
}

EventFeed::EventFeed(std::string epoch, FeedLimits limits, Counters* counters)
    : epoch_(std::move(epoch)), limits_(limits), counters_(counters) {
  if (limits_.capacity == 0) limits_.capacity = 1;
}

std::string EventFeed::id(std::uint64_t seq) const { return epoch_ + "-" + std::to_string(seq); }

std::string EventFeed::format(const FeedEvent& e) const {
  std::string out;
  out.reserve(e.type.size() + e.data.size() + epoch_.size() + 40);
  out += "id: ";
  out += id(e.seq);
  out += "\nevent: ";
  out += e.type;
  out += "\ndata: ";
  out += e.data;
  out += "\n\n";
  return out;
}

void EventFeed::forget_closed() {
  std::erase_if(streams_, [](const auto& s) { return s->closed(); });
}

std::size_t EventFeed::subscribers() {
  forget_closed();
  return streams_.size();
}

std::uint64_t EventFeed::publish(std::string_view type, const nlohmann::json& data) {
  // dump() escapes control characters inside strings, so the data is one line
  // (an SSE "data:" field ends at the first newline); bytes that are not
  // UTF-8 (a node's message) are replaced, not thrown on.
  const std::uint64_t seq = next_seq_++;
  FeedEvent e{seq, std::string(type), data.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)};
  const std::string bytes = format(e);
  ring_.push_back(std::move(e));
  if (ring_.size() > limits_.capacity) ring_.pop_front();
  std::erase_if(streams_, [&](const auto& s) {
    if (s->closed()) return true;  // the client left
    if (s->push(bytes)) return false;
    // Its client stopped reading: its queue is full. Dropped, not buffered
    // for; it resumes (or resets) with Last-Event-ID.
    if (counters_ != nullptr) counters_->inc("http.events.dropped_slow");
    return true;
  });
  return seq;
}

std::variant<EventFeed::Opened, EventFeed::Full> EventFeed::attach(const std::optional<FeedPosition>& from,
                                                                   std::shared_ptr<ReplyStream> out) {
  forget_closed();
  if (streams_.size() >= limits_.max_subscribers) return Full{};
  std::string first = "retry: " + std::to_string(kFeedRetry.count()) + "\n\n";
  Opened opened;
  if (!from) {
    // A position right away: a client that reconnects before any event
    // resumes from here instead of from "now", losing what came between.
    first += "id: " + id(last_seq()) + "\nevent: hello\ndata: {}\n\n";
  } else {
    // Resumable: the same run, and nothing between the client's last event
    // and the ring's oldest was lost.
    const bool same_run = from->epoch == epoch_ && from->seq <= last_seq();
    const char* why = !same_run ? "server restarted" : nullptr;
    if (same_run && from->seq + 1 < first_seq()) why = "too far behind";
    if (why == nullptr) {
      for (std::uint64_t seq = from->seq + 1; seq <= last_seq(); ++seq) {
        first += format(ring_[seq - first_seq()]);
        // A backlog larger than the queue would be dropped on arrival: reload instead.
        if (first.size() > limits_.max_queued) {
          why = "too far behind";
          break;
        }
      }
    }
    if (why != nullptr) {
      opened.reset = true;
      first = "retry: " + std::to_string(kFeedRetry.count()) + "\n\n";
      // The reset carries the current id: a client that reloads and then
      // reconnects resumes from here.
      nlohmann::json data{{"reason", why}, {"last_id", id(last_seq())}};
      first += "id: " + id(last_seq()) + "\nevent: reset\ndata: " + data.dump() + "\n\n";
    }
  }
  if (!out->push(first)) return opened;  // cannot happen with an empty queue of sane size; nothing attached
  streams_.push_back(std::move(out));
  return opened;
}

}  // namespace ramfleet::http
