#pragma once
// A reply whose body is written over time: server-sent events
// (/api/v1/events/stream, helper `dashboard`, docs/operations.md). A handler
// returns a Reply with `stream` set, a status and headers and no body; the
// operator transport (net/operator_server) sends the head without
// Content-Length (the body ends when the connection closes), then drains the
// stream: it takes what is queued and writes it; when nothing is queued it
// waits until the producer pushes again or a keep-alive interval passes (then
// it writes an SSE comment, ": keepalive\n\n", which also finds clients that
// left). It ends when the producer calls finish() or the client goes away
// (closed() turns true: the producer drops the stream).
//
// Everything runs on the event loop: no locks. The queue is bounded: a
// client that does not read fast enough is cut off (push returns false), so
// a stalled reader never holds more than max_queued bytes.
#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <utility>

namespace ramfleet::http {

class ReplyStream {
 public:
  explicit ReplyStream(std::size_t max_queued = std::size_t{1} << 20U) : max_queued_(max_queued) {}

  // --- producer side
  // Queues bytes for the client; false (and the stream is closed) when the
  // queue would exceed max_queued, or the stream is closed already.
  bool push(std::string_view bytes) {
    if (closed_) return false;
    if (queued_.size() + bytes.size() > max_queued_) {
      overflowed_ = true;
      close();
      return false;
    }
    queued_.append(bytes);
    wake();
    return true;
  }
  // No more data: the transport writes what is queued and closes.
  void finish() {
    finished_ = true;
    wake();
  }
  [[nodiscard]] bool closed() const { return closed_; }
  [[nodiscard]] bool overflowed() const { return overflowed_; }

  // --- transport side
  std::string take() { return std::exchange(queued_, {}); }
  [[nodiscard]] bool finished() const { return finished_ || closed_; }
  // Called (on the loop) whenever there is something new to take.
  void on_ready(std::function<void()> f) { ready_ = std::move(f); }
  // The client left (or the transport gave up): the producer sees closed().
  void close() {
    closed_ = true;
    wake();
    ready_ = nullptr;
  }

 private:
  void wake() {
    if (ready_) ready_();
  }
  std::size_t max_queued_;
  std::string queued_;
  bool finished_ = false, closed_ = false, overflowed_ = false;
  std::function<void()> ready_;
};

}  // namespace ramfleet::http
